/**
 * What changed in the signatures of the default ONNX domain's ops from opset 6 to 21, for upgrade-opset: the ops
 * whose signature did not change in a way that matters (UNCHANGED), and for every op that did, each change (CHANGES)
 * with an adapter that rewrites the node from the form before the change to the form after it, keeping what it
 * computes. New nodes an adapter adds are written in the target opset's form (opset 13 and later, hence
 * MIN_TARGET_OPSET). The facts come from the ONNX operator changelog (docs/Changelog.md); supporting another op
 * means adding it here.
 */
import { RegraftError } from '../errors.js';
import type { GraphBuilder } from '../ir/builder.js';
import { DataType } from '../ir/dtype.js';
import type { Node } from '../ir/node.js';
import type { Value } from '../ir/value.js';
import { DEFAULT_DROPOUT_RATIO } from './insert-dropout.js';
import { replaceValue } from './rewire.js';

export interface AdapterContext {
  b: GraphBuilder;
  target: number;
  rank(v: Value | undefined): number | undefined;
}

/** Rewrites `node` from its form before the change to its form after it; returns what it did, if anything. */
export type Adapter = (node: Node, ctx: AdapterContext) => string | undefined;

export interface Change {
  /** The opset version that changed the op's signature. */
  since: number;
  adapt: Adapter;
}

/** Ops whose signature did not change in a way a valid model notices, from opset 6 (or their introduction) to 21. */
export const UNCHANGED = new Set([
  'Abs', 'Acos', 'Acosh', 'And', 'ArgMax', 'ArgMin', 'Asin', 'Asinh', 'Atan', 'Atanh', 'AveragePool', 'Cast', 'Ceil',
  'Celu', 'Concat', 'Constant', 'ConstantOfShape', 'Conv', 'ConvTranspose', 'Cos', 'Cosh', 'CumSum', 'DepthToSpace',
  'Einsum', 'Elu', 'Erf', 'Exp', 'Expand', 'EyeLike', 'Flatten', 'Floor', 'Gather', 'GatherElements', 'GatherND',
  'Gelu', 'GlobalAveragePool', 'GlobalLpPool', 'GlobalMaxPool', 'HardSigmoid', 'HardSwish', 'Identity',
  'InstanceNormalization', 'IsInf', 'IsNaN', 'LayerNormalization', 'LeakyRelu', 'Log', 'LRN', 'MatMul', 'Max',
  'MaxPool', 'Mean', 'Min', 'Mish', 'Mod', 'Neg', 'NonZero', 'Not', 'OneHot', 'Range', 'Reciprocal', 'Relu', 'Reshape',
  'Round', 'Selu', 'Shape', 'Shrink', 'Sigmoid', 'Sign', 'Sin', 'Sinh', 'Size', 'Softplus', 'Softsign', 'SpaceToDepth',
  'Sqrt', 'Sum', 'Tan', 'Tanh', 'ThresholdedRelu', 'Tile', 'Transpose', 'Trilu', 'Where',
]);

/** Ops with legacy broadcasting (attributes broadcast/axis) until opset 7, numpy broadcasting since. */
const LEGACY_BROADCAST = ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'And', 'Or', 'Xor', 'Equal', 'Greater', 'Less'];
/** Reductions whose axes moved from an attribute to an input at opset 18 (ReduceSum did at 13). */
const REDUCE_18 = ['ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceMax', 'ReduceMean', 'ReduceMin', 'ReduceProd', 'ReduceSumSquare'];

export const CHANGES: Record<string, Change[]> = {
  ...Object.fromEntries(LEGACY_BROADCAST.map((op) => [op, [{ since: 7, adapt: numpyBroadcast }]])),
  ...Object.fromEntries(REDUCE_18.map((op) => [op, [{ since: 18, adapt: axesToInput('axes', 1) }]])),
  ReduceSum: [{ since: 13, adapt: axesToInput('axes', 1) }],
  Squeeze: [{ since: 13, adapt: axesToInput('axes', 1) }],
  Unsqueeze: [{ since: 13, adapt: axesToInput('axes', 1) }],
  Split: [
    { since: 13, adapt: axesToInput('split', 1) },
    { since: 18, adapt: splitOutputCount },
  ],
  Gemm: [{ since: 7, adapt: dropAttributes('broadcast') }],
  // Before opset 7, output_sequence said whether Y is computed; since, Y is computed when it is an output.
  LSTM: [{ since: 7, adapt: dropAttributes('output_sequence') }],
  GRU: [{ since: 7, adapt: dropAttributes('output_sequence') }],
  RNN: [{ since: 7, adapt: dropAttributes('output_sequence') }],
  BatchNormalization: [
    { since: 7, adapt: batchNormIsTest },
    { since: 9, adapt: batchNormSpatial },
    { since: 14, adapt: batchNormTrainingMode },
  ],
  Dropout: [
    { since: 7, adapt: dropAttributes('is_test') },
    { since: 10, adapt: dropoutMaskUnread },
    { since: 12, adapt: dropoutRatioToInput },
  ],
  Softmax: [{ since: 13, adapt: softmaxSingleAxis }],
  LogSoftmax: [{ since: 13, adapt: softmaxSingleAxis }],
  Hardmax: [{ since: 13, adapt: softmaxSingleAxis }],
  Slice: [{ since: 10, adapt: sliceAttributesToInputs }],
  Pad: [{ since: 11, adapt: padAttributesToInputs }],
  Clip: [{ since: 11, adapt: clipAttributesToInputs }],
  TopK: [{ since: 10, adapt: topKToInput }],
  PRelu: [{ since: 7, adapt: preluPerChannel }],
  Upsample: [{ since: 10, adapt: upsampleToResize }],
  Resize: [{ since: 11, adapt: resize10To11 }],
};

function dropAttributes(...names: string[]): Adapter {
  return (node) => {
    const present = names.filter((n) => node.attributes.delete(n));
    return present.length > 0 ? `dropped ${present.join(', ')}` : undefined;
  };
}

/**
 * Legacy broadcasting aligned B with A starting at `axis` (suffix alignment without it); numpy broadcasting aligns
 * trailing dims, so B gets trailing 1-dims when it ended before A's last axis.
 */
function numpyBroadcast(node: Node, ctx: AdapterContext): string | undefined {
  const broadcast = node.attrs.int('broadcast', 0);
  const axis = node.attrs.has('axis') ? node.attrs.int('axis', 0) : undefined;
  node.attributes.delete('broadcast');
  node.attributes.delete('axis');
  if (!broadcast || axis === undefined) return broadcast ? 'legacy suffix broadcast is numpy broadcast' : undefined;
  const [a, bv] = [node.input(0), node.input(1)];
  const [rankA, rankB] = [ctx.rank(a), ctx.rank(bv)];
  if (rankA === undefined || rankB === undefined || !bv) {
    throw new RegraftError(`opset upgrade: ${node.describe()} broadcasts at axis ${axis}, which needs the ranks of both inputs; declare the input shapes`);
  }
  const trailing = rankA - (axis < 0 ? axis + rankA : axis) - rankB;
  if (trailing <= 0) return `broadcast at axis ${axis} is numpy broadcast`;
  const axes = Array.from({ length: trailing }, (_, i) => rankB + i);
  node.setInput(1, ctx.b.op('Unsqueeze', [bv, ctx.b.ints(axes)]));
  return `second input aligned at axis ${axis} (Unsqueeze ${axes.join(',')})`;
}

/** An INTS attribute becomes an int64 input at `index` (absent attribute: input left out). */
function axesToInput(attribute: string, index: number): Adapter {
  return (node, ctx) => {
    if (!node.attrs.has(attribute)) return undefined;
    const values = node.attrs.ints(attribute, []);
    node.attributes.delete(attribute);
    setInputAt(node, index, ctx.b.ints(values));
    return `${attribute} [${values.join(',')}] moved to an input`;
  };
}

function setInputAt(node: Node, index: number, v: Value | null): void {
  while (node.inputs.length < index) node.setInput(node.inputs.length, null);
  node.setInput(index, v);
}

/** Opset 18's Split wants the number of equal parts when the sizes are not given. */
function splitOutputCount(node: Node): string | undefined {
  if (node.input(1) || node.attrs.has('num_outputs')) return undefined;
  node.setAttribute('num_outputs', node.outputs.length);
  return `num_outputs ${node.outputs.length}`;
}

function batchNormSpatial(node: Node): string | undefined {
  if (node.attrs.int('spatial', 1) !== 1) {
    throw new RegraftError(`opset upgrade: ${node.describe()} has spatial=0 (statistics per element), which opset 9 and later cannot express`);
  }
  return node.attributes.delete('spatial') ? 'dropped spatial' : undefined;
}

const statisticsOutputs = (node: Node): Value[] => node.outputs.slice(1).filter((o): o is Value => o !== null);
const isRead = (v: Value | null | undefined): v is Value => !!v?.isRead;

/**
 * Opset 6 said test mode with is_test=1; from opset 7 to 13 the outputs say it: statistics outputs mean training
 * mode (batch statistics). An is_test=1 node sheds its unread statistics outputs; an is_test=0 node without them
 * has no opset-7 form.
 */
function batchNormIsTest(node: Node): string | undefined {
  const isTest = node.attrs.int('is_test', 0) === 1;
  node.attributes.delete('is_test');
  const extra = statisticsOutputs(node);
  if (!isTest && extra.length === 0) {
    throw new RegraftError(`opset upgrade: ${node.describe()} runs in training mode (is_test=0) without statistics outputs, which opset 7 cannot express; set is_test=1 for inference`);
  }
  if (!isTest || extra.length === 0) return 'dropped is_test';
  const read = extra.find(isRead);
  if (read) throw new RegraftError(`opset upgrade: ${node.describe()} is in test mode but its statistic '${read.name}' is read; opset 7 computes statistics only in training mode`);
  node.graph.rebuildNode(node, { outputs: [node.output(0)] });
  return `dropped is_test and ${extra.length} unread statistics outputs`;
}

/**
 * Opset 14 says training mode with training_mode=1 and keeps two statistics outputs (the running mean and
 * variance); the batch statistics outputs saved_mean and saved_var are gone, so they must be unread.
 */
function batchNormTrainingMode(node: Node): string | undefined {
  if (statisticsOutputs(node).length === 0) return undefined;
  const saved = node.outputs.slice(3).find(isRead);
  if (saved) throw new RegraftError(`opset upgrade: ${node.describe()} output '${saved.name}' (a batch statistic) is read; opset 14 no longer outputs it`);
  const attributes = new Map(node.attributes);
  const rebuilt = node.graph.rebuildNode(node, { outputs: node.outputs.slice(0, 3), attributes });
  rebuilt.setAttribute('training_mode', 1);
  return 'training mode (statistics outputs) written as training_mode=1';
}

/** Before opset 10 the mask had the data's type; since, it is bool. Only an unread mask upgrades unchanged. */
function dropoutMaskUnread(node: Node): string | undefined {
  const mask = node.outputs[1];
  if (isRead(mask)) {
    throw new RegraftError(`opset upgrade: ${node.describe()} mask '${mask.name}' is read, and its type changes from float to bool at opset 10`);
  }
  if (!mask) return undefined;
  node.graph.rebuildNode(node, { outputs: [node.output(0)] });
  return 'dropped the unread mask';
}

function dropoutRatioToInput(node: Node, ctx: AdapterContext): string | undefined {
  const ratio = node.attrs.float('ratio', DEFAULT_DROPOUT_RATIO);
  node.attributes.delete('ratio');
  setInputAt(node, 1, ctx.b.scalar(ratio, 'ratio'));
  return `ratio ${ratio} moved to an input`;
}

/**
 * Before opset 13, Softmax-like ops flattened the input to 2-D at `axis` (default 1) and normalized each row; since,
 * they normalize along the one axis (default -1). The same when `axis` is the last axis; otherwise the old
 * meaning is written out: Flatten at axis, the op along axis 1, Reshape back to the input's shape.
 */
function softmaxSingleAxis(node: Node, ctx: AdapterContext): string | undefined {
  const x = node.input(0)!;
  const axis = node.attrs.int('axis', 1);
  const rank = ctx.rank(x);
  if (rank !== undefined && (axis < 0 ? axis + rank : axis) === rank - 1) {
    node.setAttribute('axis', -1);
    return `axis ${axis} is the last axis`;
  }
  const b = ctx.b;
  node.setInput(0, b.op('Flatten', [x], { axis }));
  node.setAttribute('axis', 1);
  const out = node.output(0);
  const reshaped = b.op('Reshape', [out, b.op('Shape', [x])]);
  replaceValue(out, reshaped, reshaped.producer!);
  return `axis ${axis} over the trailing dims written as Flatten -> ${node.opType}(axis=1) -> Reshape`;
}

function sliceAttributesToInputs(node: Node, ctx: AdapterContext): string | undefined {
  const starts = node.attrs.ints('starts', []);
  const ends = node.attrs.ints('ends', []);
  const axes = node.attrs.has('axes') ? node.attrs.ints('axes', []) : undefined;
  for (const a of ['starts', 'ends', 'axes']) node.attributes.delete(a);
  setInputAt(node, 1, ctx.b.ints(starts));
  setInputAt(node, 2, ctx.b.ints(ends));
  if (axes) setInputAt(node, 3, ctx.b.ints(axes));
  return 'starts, ends, axes moved to inputs';
}

function floatInput(node: Node, what: string): void {
  const t = node.input(0)?.elemType;
  if (t !== undefined && t !== DataType.FLOAT) {
    throw new RegraftError(`opset upgrade: ${node.describe()} has a ${what} attribute on non-float data; regraft upgrades this op for float32 data only`);
  }
}

function padAttributesToInputs(node: Node, ctx: AdapterContext): string | undefined {
  const pads = node.attrs.ints('pads', []);
  const value = node.attrs.float('value', 0);
  node.attributes.delete('pads');
  node.attributes.delete('value');
  setInputAt(node, 1, ctx.b.ints(pads));
  if (value !== 0) {
    floatInput(node, 'value');
    setInputAt(node, 2, ctx.b.scalar(value, 'pad_value'));
  }
  return 'pads and value moved to inputs';
}

function clipAttributesToInputs(node: Node, ctx: AdapterContext): string | undefined {
  const hasMin = node.attrs.has('min');
  const hasMax = node.attrs.has('max');
  if (!hasMin && !hasMax) return undefined;
  floatInput(node, 'min/max');
  const min = node.attrs.float('min', 0);
  const max = node.attrs.float('max', 0);
  node.attributes.delete('min');
  node.attributes.delete('max');
  setInputAt(node, 1, hasMin ? ctx.b.scalar(min, 'clip_min') : null);
  if (hasMax) setInputAt(node, 2, ctx.b.scalar(max, 'clip_max'));
  return 'min/max moved to inputs';
}

function topKToInput(node: Node, ctx: AdapterContext): string | undefined {
  const k = node.attrs.int('k', 1);
  node.attributes.delete('k');
  setInputAt(node, 1, ctx.b.ints([k]));
  return `k ${k} moved to an input`;
}

/**
 * Opset 6 applied a [C] slope per channel (axis 1); opset 7 broadcasts it numpy-style (against the last axis), so
 * a [C] slope on a rank > 2 input gets trailing 1-dims.
 */
function preluPerChannel(node: Node, ctx: AdapterContext): string | undefined {
  const [x, slope] = [node.input(0), node.input(1)];
  const rank = ctx.rank(x);
  const slopeShape = slope?.shape;
  if (!slope || slopeShape?.length !== 1 || slopeShape[0] === 1) return undefined;
  if (rank === undefined) throw new RegraftError(`opset upgrade: ${node.describe()} has a per-channel slope; declare the rank of its input '${x?.name}'`);
  if (rank <= 2) return undefined;
  const axes = Array.from({ length: rank - 2 }, (_, i) => i + 1);
  node.setInput(1, ctx.b.op('Unsqueeze', [slope, ctx.b.ints(axes)]));
  return `slope [C] made [C${',1'.repeat(rank - 2)}] to stay per channel`;
}

/**
 * Upsample (deprecated at opset 10) is Resize with asymmetric coordinates and, for nearest, floor rounding: what
 * onnx's own version converter writes.
 */
function upsampleToResize(node: Node, ctx: AdapterContext): string | undefined {
  const mode = node.attrs.string('mode', 'nearest');
  const scales = node.input(1) ?? ctx.b.floatInit('scales', node.attrs.floatList('scales', []), [node.attrs.floatList('scales', []).length]);
  const attrs: Record<string, string> = { mode, coordinate_transformation_mode: 'asymmetric' };
  if (mode === 'nearest') attrs.nearest_mode = 'floor';
  const resize = ctx.b.op('Resize', [node.input(0)!, null, scales], attrs);
  replaceValue(node.output(0), resize);
  return `written as Resize (${mode}, asymmetric)`;
}

/** Resize-10 took (X, scales) with asymmetric coordinates; 11 added roi before scales and the coordinate mode. */
function resize10To11(node: Node): string | undefined {
  const scales = node.input(1) ?? null;
  node.setInput(1, null);
  setInputAt(node, 2, scales);
  node.setAttribute('coordinate_transformation_mode', 'asymmetric');
  if (node.attrs.string('mode', 'nearest') === 'nearest') node.setAttribute('nearest_mode', 'floor');
  return 'roi input added, asymmetric coordinates';
}
