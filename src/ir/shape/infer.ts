import type { Graph } from '../graph.js';
import type { Node } from '../node.js';
import { tensorDims } from '../tensor.js';
import type { Dim, Value } from '../value.js';
import { SHAPE_RULES } from './rules.js';
import type { InferredType, ShapeContext, ShapeFacts, ShapeFamily, ShapeRule } from './types.js';
import { constantValues, numbersOf } from './values.js';

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

/** Whether the analysis has a rule for the node's op (ai.onnx ops only). */
export const hasShapeRule = (node: Node): boolean => (node.domain === '' || node.domain === 'ai.onnx') && RULES.has(node.opType);

/** One context per inference run: dims computed from Shape are only trusted for the graph as it is now. */
function makeContext(knownDims: Map<Value, Dim[]>): ShapeContext {
  const dims = (v: Value | null | undefined) => (v ? (knownDims.get(v) ?? constantValues(v)) : undefined);
  return {
    dims,
    shape: (v) => v?.shape,
    elemType: (v) => v?.elemType,
    constInts: (v) => numbersOf(dims(v)),
  };
}

/**
 * The shape to record for a value: what inference found, with any dim it left unknown taken from the model's
 * declaration. Where they disagree inference wins: it follows the graph from its declared inputs, while exporters'
 * value_info for intermediate values can be stale (the dynamo exporter declares a GRU's output [0, 1, 0, 16] and a
 * dynamic sequence axis as the example's 12).
 */
function mergedShape(inferred: Dim[] | undefined, declared: Dim[] | undefined): Dim[] | undefined {
  if (!inferred) return declared;
  if (!declared || declared.length !== inferred.length) return inferred;
  return inferred.map((d, i) => d ?? declared[i]);
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
  // Only the shape: `dims` (values a shape tensor or a constant holds) may be -1 or fractional.
  if (!impossibleShape) return t;
  return t.elemType === undefined ? undefined : { elemType: t.elemType };
}

/**
 * Type and shape inference for the ops regraft trains, in topological order, from the graph's declared inputs:
 * symbolic dims (batch, sequence) are carried through shape arithmetic as exact expressions, and the contents of
 * small integer tensors are propagated (values.ts), so a Reshape target or a Slice bound computed from shapes is
 * known. Inferred shapes are written into the graph (merged with what the model declares: mergedShape); a declared
 * element type is kept. Ops without a rule leave their outputs as declared; the gradient rules that need a shape
 * then fall back to run-time shapes or name what is missing. Returns the contents of the integer tensors it knows.
 */
export function inferShapes(graph: Graph): ShapeFacts {
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
      if (!out || !t) return;
      if (t.dims) knownDims.set(out, t.dims);
      const elemType = out.elemType ?? t.elemType;
      if (elemType === undefined) return;
      const shape = mergedShape(t.shape, out.shape);
      if (out.type && sameShape(shape, out.shape)) return;
      out.setTensorType(elemType, shape);
    });
  }
  return knownDims;
}

function sameShape(a: Dim[] | undefined, b: Dim[] | undefined): boolean {
  if (!a || !b) return a === b;
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * The same inference over `nodes` (in order), without writing into the graph: for checks of nodes just built,
 * such as the backward driver's gradient shapes. `known` holds what earlier calls inferred, so a chain of calls
 * sees its own results; a value not in it is read as the graph declares it, its contents from `facts` (what
 * inferShapes found for the graph).
 */
export function inferShapesOf(nodes: readonly Node[], known: Map<Value, InferredType>, facts?: ShapeFacts): void {
  const dims = (v: Value | null | undefined) => (v ? (known.get(v)?.dims ?? facts?.get(v) ?? constantValues(v)) : undefined);
  const ctx: ShapeContext = {
    dims,
    shape: (v) => (v ? (v.shape ?? known.get(v)?.shape) : undefined),
    elemType: (v) => (v ? (v.elemType ?? known.get(v)?.elemType) : undefined),
    constInts: (v) => numbersOf(dims(v)),
  };
  for (const node of nodes) {
    const inferred = inferNode(node, ctx);
    node.outputs.forEach((out, i) => {
      const t = inferred?.[i];
      if (out && t) known.set(out, t);
    });
  }
}
