/*
 * Shape rules of the ops that make shapes into values and values into shapes: Shape (start/end), Size,
 * ConstantOfShape, Range. Their results carry their contents (values.ts) where known, symbolic dims included, so
 * the shape arithmetic after them is followed; Range's length is exact for symbolic bounds with a step of 1 or -1
 * (`Range(0, sequence, 1)` has `sequence` elements).
 */
import { DataType, isFloatType } from '../dtype.js';
import type { Dim } from '../value.js';
import { dimProduct, range, staticLength } from './dims.js';
import { divDims, maxDims, subDims } from './symbolic-dims.js';
import type { ShapeRule } from './types.js';
import { integerContents, MAX_VALUES } from './values.js';

/** Shape's start/end: negative counts from the end, then clamped to [0, rank] (the spec's rule). */
function shapeBound(value: number, rank: number): number {
  return Math.min(Math.max(value < 0 ? value + rank : value, 0), rank);
}

export const shapeOp: ShapeRule = (node, c) => {
  const x = c.shape(node.inputs[0]);
  if (!x) return [{ elemType: DataType.INT64, shape: [null] }];
  const start = shapeBound(node.attrs.int('start', 0), x.length);
  const end = node.attrs.has('end') ? shapeBound(node.attrs.int('end'), x.length) : x.length;
  const dims = x.slice(start, Math.max(start, end));
  return [{ elemType: DataType.INT64, shape: [dims.length], dims }];
};

/** Size: an int64 scalar, the element count. */
export const size: ShapeRule = (node, c) => {
  const x = c.shape(node.inputs[0]);
  return [{ elemType: DataType.INT64, shape: [], dims: x ? [dimProduct(x)] : undefined }];
};

/** ConstantOfShape: shaped by its input's contents (or, those unknown, of its input's length in rank); a small integer result holds its value. */
export const constantOfShape: ShapeRule = (node, c) => {
  const t = node.attrs.tensor('value');
  const elemType = t ? t.dataType : DataType.FLOAT;
  const shape = c.dims(node.inputs[0]);
  if (!shape) {
    const rank = staticLength(c.shape(node.inputs[0]));
    return [{ elemType, shape: rank === undefined ? undefined : new Array<Dim>(rank).fill(null) }];
  }
  // The fill value of an integer or bool ConstantOfShape (the default float 0 is not one).
  const fill = integerContents(t)?.[0];
  const n = shape.length === 0 ? 1 : shape.length === 1 ? shape[0] : undefined;
  const dims = fill !== undefined && typeof n === 'number' && n <= MAX_VALUES ? new Array<Dim>(n).fill(fill) : undefined;
  return [{ elemType, shape, dims }];
};

export const rangeOp: ShapeRule = (node, c) => {
  const elemType = c.elemType(node.inputs[0]);
  const [start, limit, delta] = [0, 1, 2].map((i) => c.dims(node.inputs[i])?.[0] ?? null);
  const n = rangeLength(start, limit, delta);
  const integral = elemType !== undefined && !isFloatType(elemType);
  const dims = integral && typeof n === 'number' && n <= MAX_VALUES && typeof start === 'number' && typeof delta === 'number' ? range(n).map((i) => start + i * delta) : undefined;
  return [{ elemType, shape: [n], dims }];
};

/** max(ceil((limit - start) / delta), 0), exact or unknown. */
function rangeLength(start: Dim, limit: Dim, delta: Dim): Dim {
  if (typeof delta !== 'number' || delta === 0) return null;
  const span = delta > 0 ? subDims(limit, start) : subDims(start, limit);
  if (span === null) return null;
  const step = Math.abs(delta);
  const n = typeof span === 'number' ? Math.ceil(span / step) : step === 1 ? span : divDims(span, step);
  return n === null ? null : maxDims(n, 0);
}
