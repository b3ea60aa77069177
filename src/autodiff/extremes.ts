/*
 * Y = ReduceMax(X) / ReduceMin(X) over some axes, and GlobalMaxPool (ReduceMax over the spatial axes): Y picks one
 * element of each group of X that shares the non-reduced indices, so
 *
 *   dX[k, r] = dY[k]   when r is the position of the extreme of group k,   0 elsewhere
 *
 * Ties: the max is not differentiable there; any convex combination of the tied positions is a subgradient. Comparing
 * X with the broadcast Y would hand dY to every tied element (the gradient counted several times), so instead each
 * group sends dY to exactly ONE position, the first extreme in row-major order:
 *
 *   X -> Transpose(kept axes first, reduced axes last) -> Reshape [*kept, P] -> ArgMax/ArgMin(axis -1, first index)
 *   dX = ScatterElements(zeros [*kept, P], that index, dY as [*kept, 1], axis -1) -> Reshape -> inverse Transpose
 *
 * ScatterElements needs opset 11.
 */
import { OPSET_UPGRADE_HINT, RegraftError } from '../errors.js';
import type { Value } from '../ir/value.js';
import { filled, staticDims } from './shapes.js';
import type { GradContext } from './types.js';

/** dY placed at the first extreme of every group of X that `axes` reduce; zeros elsewhere. */
export function routeToExtreme(ctx: GradContext, axes: number[], rank: number, argOp: 'ArgMax' | 'ArgMin'): Value {
  if (ctx.opset < 11) {
    throw new RegraftError(`${ctx.node.describe()}: the gradient uses ScatterElements (opset 11+), the model has opset ${ctx.opset}; ${OPSET_UPGRADE_HINT}`);
  }
  const { b } = ctx;
  const x = ctx.x(0);
  const reduced = new Set(axes);
  const keptAxes = Array.from({ length: rank }, (_, i) => i).filter((a) => !reduced.has(a));
  const perm = [...keptAxes, ...[...reduced].sort((p, q) => p - q)];
  const identity = perm.every((a, i) => a === i);
  const moved = identity ? x : b.op('Transpose', [x], { perm });
  // Reshape's 0 copies a dim: [*kept, P] without knowing the kept sizes.
  const rows = b.op('Reshape', [moved, b.ints([...keptAxes.map(() => 0), -1], 'shape')]);
  const index = b.op(argOp, [rows], { axis: -1, keepdims: 1 });
  const updates = b.op('Reshape', [ctx.dy(0)!, b.op('Shape', [index])]);
  const zeros = filled(ctx, b.op('Shape', [rows]));
  const scattered = b.op('ScatterElements', [zeros, index, updates], { axis: -1 });
  const xDims = staticDims(ctx, x);
  const movedShape = xDims ? b.ints(perm.map((a) => xDims[a]), 'shape') : b.op('Shape', [moved]);
  const unflat = b.op('Reshape', [scattered, movedShape]);
  if (identity) return unflat;
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return b.op('Transpose', [unflat], { perm: inverse });
}
