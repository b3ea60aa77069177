/*
 * Static shape rules for the convolution, pooling, normalization and loss ops, so the values after them keep a
 * known rank and sizes (BatchNormalization's gradient needs its input's rank; tests need static output shapes).
 * Registered by registerNnShapeRules(); a dim that cannot be computed statically stays null.
 */
import { DataType } from './dtype.js';
import type { Node } from './node.js';
import { registerShapeRule, type ShapeContext } from './shape-inference.js';
import type { Dim } from './value.js';

/** Output size of a sliding window along one axis: floor (or ceil) of (n + pads - extent) / stride, plus one. */
function windowOutput(n: Dim, padBegin: number, padEnd: number, extent: number, stride: number, ceil: boolean): Dim {
  if (typeof n !== 'number') return null;
  const span = n + padBegin + padEnd - extent;
  let out = (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  // A ceil_mode window that would start in the end padding is dropped.
  if (ceil && (out - 1) * stride >= n + padBegin) out -= 1;
  return out;
}

/** Spatial output sizes of Conv/MaxPool/AveragePool; undefined when the attributes do not fit the input. */
function windowedSpatial(node: Node, x: Dim[], kernel: readonly number[], ceil: boolean): Dim[] | undefined {
  const r = kernel.length;
  if (x.length !== r + 2) return undefined;
  const a = node.attrs;
  const ones = kernel.map(() => 1);
  const strides = a.ints('strides', ones);
  const dilations = a.ints('dilations', ones);
  const autoPad = a.string('auto_pad', 'NOTSET');
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    return x.slice(2).map((n, i) => (typeof n === 'number' ? Math.ceil(n / strides[i]) : null));
  }
  const pads = autoPad === 'VALID' ? [...ones, ...ones].map(() => 0) : a.ints('pads', [...ones, ...ones].map(() => 0));
  return x.slice(2).map((n, i) => windowOutput(n, pads[i], pads[i + r], (kernel[i] - 1) * dilations[i] + 1, strides[i], ceil));
}

function convShape(node: Node, c: ShapeContext) {
  const x = c.shape(node.inputs[0]);
  const w = c.shape(node.inputs[1]);
  const elemType = c.elemType(node.inputs[0]);
  const kernel = node.attrs.has('kernel_shape') ? node.attrs.ints('kernel_shape') : w?.slice(2);
  if (!x || !kernel || kernel.some((k) => typeof k !== 'number')) {
    // The rank alone still helps the rules downstream: it is the weight's.
    const rank = x?.length ?? w?.length;
    return [{ elemType, shape: rank === undefined ? undefined : Array.from({ length: rank }, (_, i) => (i === 1 && w ? w[0] : null)) }];
  }
  const spatial = windowedSpatial(node, x, kernel as number[], false);
  return [{ elemType, shape: spatial ? [x[0], w ? w[0] : null, ...spatial] : undefined }];
}

function poolShape(node: Node, c: ShapeContext) {
  const x = c.shape(node.inputs[0]);
  const elemType = c.elemType(node.inputs[0]);
  const kernel = node.attrs.ints('kernel_shape');
  const spatial = x ? windowedSpatial(node, x, kernel, node.attrs.int('ceil_mode', 0) === 1) : undefined;
  // Without the input's shape the rank is still the kernel's plus two.
  const shape = x && spatial ? [x[0], x[1], ...spatial] : x ? undefined : [null, null, ...kernel.map(() => null)];
  return [{ elemType, shape }, { elemType: DataType.INT64, shape }];
}

function globalPoolShape(node: Node, c: ShapeContext) {
  const x = c.shape(node.inputs[0]);
  return [{ elemType: c.elemType(node.inputs[0]), shape: x ? [x[0], x[1], ...x.slice(2).map(() => 1)] : undefined }];
}

function batchNormShape(node: Node, c: ShapeContext) {
  const elemType = c.elemType(node.inputs[0]);
  const channels = c.shape(node.inputs[1]);
  return [{ elemType, shape: c.shape(node.inputs[0]) }, { elemType, shape: channels }, { elemType, shape: channels }];
}

function layerNormShape(node: Node, c: ShapeContext) {
  const x = c.shape(node.inputs[0]);
  const elemType = c.elemType(node.inputs[0]);
  if (!x) return [{ elemType }];
  const raw = node.attrs.int('axis', -1);
  const axis = raw < 0 ? raw + x.length : raw;
  const stats = x.map((d, i) => (i < axis ? d : 1));
  const statType = node.attrs.int('stash_type', DataType.FLOAT);
  return [{ elemType, shape: x }, { elemType: statType, shape: stats }, { elemType: statType, shape: stats }];
}

function softmaxCrossEntropyShape(node: Node, c: ShapeContext) {
  const elemType = c.elemType(node.inputs[0]);
  const reduction = node.attrs.string('reduction', 'mean');
  return [{ elemType, shape: reduction === 'none' ? c.shape(node.inputs[1]) : [] }, { elemType, shape: c.shape(node.inputs[0]) }];
}

/** Registers the rules above with the shape inference (idempotent). */
export function registerNnShapeRules(): void {
  registerShapeRule(['Conv'], convShape);
  registerShapeRule(['MaxPool', 'AveragePool'], poolShape);
  registerShapeRule(['GlobalAveragePool', 'GlobalMaxPool'], globalPoolShape);
  registerShapeRule(['BatchNormalization'], batchNormShape);
  registerShapeRule(['LayerNormalization'], layerNormShape);
  registerShapeRule(['SoftmaxCrossEntropyLoss'], softmaxCrossEntropyShape);
}
