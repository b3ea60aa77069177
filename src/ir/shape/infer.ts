import { constantInts } from '../constant.js';
import type { Graph } from '../graph.js';
import type { Node } from '../node.js';
import { tensorDims } from '../tensor.js';
import type { Dim, Value } from '../value.js';
import { SHAPE_RULES } from './rules.js';
import type { InferredType, ShapeContext, ShapeFamily, ShapeRule } from './types.js';

/**
 * Op type -> shape rule, from a registry list. A second rule for an op is an error naming the op and both
 * families: with a map that silently kept the later one, the order of the list would decide which rule runs.
 */
export function buildShapeRuleMap(families: readonly ShapeFamily[]): Map<string, ShapeRule> {
  const rules = new Map<string, ShapeRule>();
  const familyOf = new Map<string, string>();
  for (const { family, rules: entries } of families) {
    for (const { opTypes, rule } of entries) {
      for (const op of opTypes) {
        const first = familyOf.get(op);
        if (first !== undefined) throw new Error(`two shape rules registered for ${op}: one in family '${first}', one in '${family}'`);
        familyOf.set(op, family);
        rules.set(op, rule);
      }
    }
  }
  return rules;
}

const RULES = buildShapeRuleMap(SHAPE_RULES);

/** One context per inference run: dims computed from Shape are only trusted for the graph as it is now. */
function makeContext(knownDims: Map<Value, Dim[]>): ShapeContext {
  return {
    dims: (v) => (v ? (knownDims.get(v) ?? constantInts(v)) : undefined),
    shape: (v) => v?.shape,
    elemType: (v) => v?.elemType,
    constInts: constantInts,
  };
}

/** What `node`'s rule infers for its outputs, or undefined for an op without a rule (or a rule that fails on it). */
function inferNode(node: Node, ctx: ShapeContext): (InferredType | undefined)[] | undefined {
  const rule = RULES.get(node.opType);
  if (!rule || (node.domain !== '' && node.domain !== 'ai.onnx')) return undefined;
  let inferred: (InferredType | undefined)[];
  try {
    inferred = rule(node, ctx);
  } catch {
    return undefined; // a malformed attribute is reported by the validator or the runtime, not here
  }
  return inferred.map(withoutImpossibleDims);
}

/**
 * A rule's answer, or only its element type when a dimension it computed cannot be one (NaN, fractional, negative,
 * beyond 2^53): the arithmetic of a damaged node's attributes (a zero stride, a kernel wider than its input). Like a
 * malformed attribute, that leaves the shape unknown for the validator or the runtime to report.
 */
function withoutImpossibleDims(t: InferredType | undefined): InferredType | undefined {
  if (!t) return t;
  const impossibleShape = t.shape?.some((d) => typeof d === 'number' && !(Number.isSafeInteger(d) && d >= 0));
  // `dims` are the values of a shape tensor, where -1 (Reshape's "infer this one") is allowed.
  const impossibleDims = t.dims?.some((d) => typeof d === 'number' && !Number.isSafeInteger(d));
  if (!impossibleShape && !impossibleDims) return t;
  return t.elemType === undefined ? undefined : { elemType: t.elemType };
}

/**
 * Static type and shape inference for the ops regraft trains, in topological order. It fills in what is unknown
 * and never overwrites a type the model declares. Unknown ops leave their outputs unknown; the gradient rules
 * that need a shape then fall back to run-time shapes or name what is missing.
 */
export function inferShapes(graph: Graph): void {
  for (const v of graph.initializers) {
    if (!v.type && v.initializer) v.setTensorType(v.initializer.dataType, tensorDims(v.initializer));
  }
  const knownDims = new Map<Value, Dim[]>();
  const ctx = makeContext(knownDims);
  for (const node of graph.nodes) {
    const inferred = inferNode(node, ctx);
    if (!inferred) continue;
    node.outputs.forEach((out, i) => {
      const t = inferred[i];
      if (out && t?.dims) knownDims.set(out, t.dims);
      if (!out || !t || out.shape !== undefined) return;
      const elemType = out.elemType ?? t.elemType;
      if (elemType === undefined) return;
      out.setTensorType(elemType, t.shape);
    });
  }
}

/**
 * The same inference over `nodes` (in order), without writing into the graph: for checks of nodes just built,
 * such as the backward driver's gradient shapes. `known` holds what earlier calls inferred, so a chain of calls
 * sees its own results; a value not in it is read as the graph declares it.
 */
export function inferShapesOf(nodes: readonly Node[], known: Map<Value, InferredType>): void {
  const ctx: ShapeContext = {
    dims: (v) => (v ? (known.get(v)?.dims ?? constantInts(v)) : undefined),
    shape: (v) => (v ? (v.shape ?? known.get(v)?.shape) : undefined),
    elemType: (v) => (v ? (v.elemType ?? known.get(v)?.elemType) : undefined),
    constInts: constantInts,
  };
  for (const node of nodes) {
    const inferred = inferNode(node, ctx);
    node.outputs.forEach((out, i) => {
      const t = inferred?.[i];
      if (out && t) known.set(out, t);
    });
  }
}
