import { constantInts } from '../constant.js';
import type { Graph } from '../graph.js';
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
    const rule = RULES.get(node.opType);
    if (!rule || (node.domain !== '' && node.domain !== 'ai.onnx')) continue;
    let inferred: (InferredType | undefined)[];
    try {
      inferred = rule(node, ctx);
    } catch {
      continue; // a malformed attribute is reported by the validator or the runtime, not here
    }
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
