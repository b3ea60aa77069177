import { DataType } from './dtype.js';
import type { Graph } from './graph.js';
import type { Node } from './node.js';
import { constantInts } from './constant.js';
import { tensorDims } from './tensor.js';
import { registerNnShapeRules } from './shape-rules-nn.js';
import { registerExtraShapeRules } from './shape-rules-extra.js';
import { registerExtraNnShapeRules } from './shape-rules-nn-extra.js';
import { registerMoreShapeRules } from './shape-rules-more.js';
import { registerShapeRules } from './shape-rules.js';
import type { Dim, Value } from './value.js';

/** What a shape rule returns for each output: element type and shape (undefined parts stay unknown). */
export interface InferredType {
  elemType?: number;
  shape?: Dim[];
  /** For a 1-D (or scalar) integer output that holds dimensions (Shape, and Gather/Concat/Slice of it): those dims. */
  dims?: Dim[];
}

export type ShapeRule = (node: Node, ctx: ShapeContext) => (InferredType | undefined)[];

export interface ShapeContext {
  shape(v: Value | null | undefined): Dim[] | undefined;
  elemType(v: Value | null | undefined): number | undefined;
  /** The values of a small constant integer tensor (an initializer or Constant output), when known statically. */
  constInts(v: Value | null | undefined): number[] | undefined;
  /**
   * The contents of an integer tensor that holds dimensions, possibly symbolic: constants, and values computed
   * from Shape (PyTorch's `Shape -> Gather -> Unsqueeze -> Concat -> Reshape`), so a batch dim `N` flows through.
   */
  dims(v: Value | null | undefined): Dim[] | undefined;
}

/** numpy-style broadcast of static shapes; a symbolic dim against 1 stays symbolic, unknown against anything unknown. */
export function broadcastShapes(shapes: (Dim[] | undefined)[]): Dim[] | undefined {
  if (shapes.some((s) => s === undefined)) return undefined;
  const rank = Math.max(...shapes.map((s) => s!.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes as Dim[][]) {
      const k = i - (rank - s.length);
      if (k < 0) continue;
      const e = s[k];
      if (e === 1) continue;
      if (d === 1) d = e;
      else if (d !== e) d = typeof d === 'number' && typeof e !== 'number' ? d : typeof e === 'number' && typeof d !== 'number' ? e : null;
    }
    out.push(d);
  }
  return out;
}

const sameAsInput0: ShapeRule = (node, c) => [{ elemType: c.elemType(node.inputs[0]), shape: c.shape(node.inputs[0]) }];
const broadcasting: ShapeRule = (node, c) => [
  { elemType: c.elemType(node.inputs[0]), shape: broadcastShapes(node.inputs.filter((v) => v).map((v) => c.shape(v))) },
];

const RULES = new Map<string, ShapeRule>();
export function registerShapeRule(opTypes: readonly string[], rule: ShapeRule): void {
  for (const op of opTypes) RULES.set(op, rule);
}

registerShapeRule(
  ['Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Exp', 'Log', 'Sqrt', 'Neg', 'Abs', 'Erf', 'Gelu', 'Identity', 'Softmax', 'LogSoftmax', 'Elu', 'Selu', 'Softplus', 'Reciprocal', 'Sign', 'HardSigmoid',
   'Sin', 'Cos', 'Tan', 'Sinh', 'Cosh', 'Floor', 'Ceil', 'Round', 'Softsign', 'Celu', 'Mish', 'HardSwish', 'ThresholdedRelu'],
  sameAsInput0,
);
registerShapeRule(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Where', 'Mod'], (node, c) => {
  if (node.opType === 'Where') return [{ elemType: c.elemType(node.inputs[1]), shape: broadcastShapes(node.inputs.map((v) => c.shape(v))) }];
  return broadcasting(node, c);
});
registerShapeRule(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Not'], (node, c) => [
  { elemType: DataType.BOOL, shape: broadcastShapes(node.inputs.map((v) => c.shape(v))) },
]);
registerShapeRule(['MatMul'], (node, c) => {
  const a = c.shape(node.inputs[0]);
  const bs = c.shape(node.inputs[1]);
  const elemType = c.elemType(node.inputs[0]);
  if (!a || !bs || a.length === 0 || bs.length === 0) return [{ elemType }];
  const a2 = a.length === 1 ? [1, a[0]] : a;
  const b2 = bs.length === 1 ? [bs[0], 1] : bs;
  const batch = broadcastShapes([a2.slice(0, -2), b2.slice(0, -2)]);
  if (!batch) return [{ elemType }];
  const shape = [...batch, ...(a.length === 1 ? [] : [a2[a2.length - 2]]), ...(bs.length === 1 ? [] : [b2[b2.length - 1]])];
  return [{ elemType, shape }];
});
registerShapeRule(['Gemm'], (node, c) => {
  const a = c.shape(node.inputs[0]);
  const bs = c.shape(node.inputs[1]);
  const ta = node.attrs.int('transA', 0);
  const tb = node.attrs.int('transB', 0);
  const m = a ? a[ta ? 1 : 0] : null;
  const n = bs ? bs[tb ? 0 : 1] : null;
  return [{ elemType: c.elemType(node.inputs[0]), shape: [m ?? null, n ?? null] }];
});
registerShapeRule(['Dropout'], (node, c) => [sameAsInput0(node, c)[0], { elemType: DataType.BOOL, shape: c.shape(node.inputs[0]) }]);
registerShapeRule(['Cast'], (node, c) => [{ elemType: node.attrs.int('to'), shape: c.shape(node.inputs[0]), dims: c.dims(node.inputs[0]) }]);
registerShapeRule(['Constant'], (node) => {
  const t = node.attrs.tensor('value');
  return [t ? { elemType: t.dataType, shape: tensorDims(t) } : {}];
});

registerShapeRules(registerShapeRule);
// Registered last: shape-rules-nn.ts imports registerShapeRule from this module, which must be initialized first.
registerNnShapeRules();
registerExtraNnShapeRules();
registerExtraShapeRules();
registerMoreShapeRules();

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
