/*
 * Tile and nearest-neighbour upsampling copy every input element into a regular block of output elements, so their
 * gradients sum each block: dy is reshaped so that every axis of size a*b splits into (a, b), and the copy axes are
 * summed away. Which half of the pair is the copy axis depends on the layout:
 *   Tile:   y[k*d + i] = x[i]   -> split (repeats, d), sum the first of each pair
 *   Resize: y[i*f + k] = x[i]   -> split (d, factor), sum the second of each pair
 */
import type { Value } from '../ir/value.js';
import type { GradContext } from './types.js';
import { unsqueeze } from './shapes.js';

/** A 1-D int64 vector, one entry per axis: known numbers or a value computed at run time. */
export type AxisSizes = readonly number[] | Value;

/** Sums `g` (rank `rank`, axis j of size outer[j] * inner[j]) over the `outer` or `inner` factor of every axis. */
export function sumBlocks(ctx: GradContext, g: Value, outer: AxisSizes, inner: AxisSizes, sumOver: 'outer' | 'inner', rank: number): Value {
  const { b } = ctx;
  let split: Value;
  if (Array.isArray(outer) && Array.isArray(inner)) {
    split = b.ints(outer.flatMap((o, j) => [o, inner[j]]), 'block_shape');
  } else {
    // [o0, o1, ...] and [i0, i1, ...] -> [[o0, i0], [o1, i1], ...] -> [o0, i0, o1, i1, ...]
    const asValue = (v: AxisSizes) => (Array.isArray(v) ? b.ints(v, 'sizes') : (v as Value));
    const pairs = b.op('Concat', [unsqueeze(ctx, asValue(outer), [1]), unsqueeze(ctx, asValue(inner), [1])], { axis: 1 });
    split = b.op('Reshape', [pairs, b.ints([-1], 'flat')]);
  }
  const reshaped = b.op('Reshape', [g, split]);
  const axes = Array.from({ length: rank }, (_, j) => 2 * j + (sumOver === 'outer' ? 0 : 1));
  return b.reduceSum(reshaped, axes, false);
}
