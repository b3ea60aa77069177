/*
 * Dimension helpers the shape rules share. A Dim is a number, a symbolic dim (a named dim such as a batch `N`, or an
 * exact expression of named dims such as `batch*sequence`: symbolic-dims.ts) or null (unknown).
 */
import type { Dim } from '../value.js';
import { addDims, broadcastDim, compareDims, dimAtMost, divDims, maxDims, minDims, mulDims, productOfDims, subDims } from './symbolic-dims.js';

/** numpy-style broadcast (symbolic-dims.ts broadcastDim per axis); undefined when a rank is unknown. */
export function broadcastShapes(shapes: (Dim[] | undefined)[]): Dim[] | undefined {
  if (shapes.some((s) => s === undefined)) return undefined;
  const rank = Math.max(...shapes.map((s) => s!.length));
  return range(rank).map((i) =>
    (shapes as Dim[][]).reduce<Dim>((d, s) => {
      const k = i - (rank - s.length);
      return k < 0 ? d : broadcastDim(d, s[k]);
    }, 1),
  );
}

/** The length of a 1-D tensor of this shape when static (for a shape vector: the rank it describes), else undefined. */
export function staticLength(shape: readonly Dim[] | undefined): number | undefined {
  return shape && shape.length === 1 && typeof shape[0] === 'number' ? shape[0] : undefined;
}

/** A possibly negative axis made non-negative for rank `rank` (no range check: a bad axis gives an unknown dim). */
export function nonNegativeAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** 0, 1, ..., n - 1. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Product of dims: exact (`batch*sequence`), null when one is unknown, 0 when one is 0. */
export function dimProduct(dims: readonly Dim[]): Dim {
  if (dims.includes(0)) return 0;
  return productOfDims(dims);
}

/** floor(d * f) for a static factor f: a number when d is; a symbolic d when f or 1/f is a whole number and exact. */
export function scaled(d: Dim, f: number): Dim {
  if (typeof d === 'number') return Math.floor(d * f);
  if (Number.isInteger(f)) return mulDims(d, f);
  const inverse = 1 / f;
  return Number.isInteger(inverse) ? divDims(d, inverse) : null;
}

/** v clamped to [lo, hi], exactly: `min(sequence, 32)` where the order is not provable. */
function clampDim(v: Dim, lo: Dim, hi: Dim): Dim {
  return minDims(maxDims(v, lo), hi);
}

/** A Slice bound made non-negative (a negative one counts from the end), where its sign is provable. */
function wrapBound(v: Dim, dim: Dim): Dim {
  if (v === null) return null;
  if (compareDims(v, 0) === -1) return dim === null ? null : addDims(v, dim);
  return dimAtMost(0, v) ? v : null;
}

/**
 * ONNX Slice along one axis of size `dim`: the first index read (start, clamped) and how many elements are read,
 * exact where the bounds' order is provable (symbolic dims included: `x[:, :-1]` of `sequence` reads `sequence - 1`).
 */
export function sliceExtent(dim: Dim, start: Dim, end: Dim, step: number): { start: Dim; count: Dim } {
  const forward = step > 0;
  const last = dim === null ? null : subDims(dim, 1);
  const s = clampDim(wrapBound(start, dim), 0, forward ? dim : last);
  const e = clampDim(wrapBound(end, dim), forward ? 0 : -1, forward ? dim : last);
  if (s === null || e === null) return { start: s, count: null };
  const span = forward ? subDims(e, s) : subDims(s, e);
  const magnitude = Math.abs(step);
  let count: Dim;
  if (typeof span === 'number') count = Math.ceil(span / magnitude);
  else if (magnitude === 1) count = span;
  else count = divDims(span, magnitude);
  return { start: s, count: count === null ? null : maxDims(0, count) };
}
