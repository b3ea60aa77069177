/**
 * Y = ReduceMax(X) / ReduceMin(X) over axes A, and Y = GlobalMaxPool(X) (ReduceMax over the spatial axes 2.., kept
 * as size-1 dims). Y picks one element of each group of X that shares the non-reduced indices, so
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
 * Axes are an attribute before opset 18 and an optional input from 18 (no axes: all of them, unless
 * noop_with_empty_axes, when the op is the identity). ScatterElements needs opset 11.
 */
import { OPSET_UPGRADE_HINT, RegraftError } from '../../errors.js';
import type { Value } from '../../ir/value.js';
import type { GradContext, GradientRule } from '../types.js';
import { axesOf, normalizeAxis } from '../axes.js';
import { requireRank, staticDims } from '../shapes.js';

export const reduceMaxMinGrad: GradientRule = {
  opTypes: ['ReduceMax', 'ReduceMin'],
  grad(ctx) {
    const rest = ctx.node.inputs.slice(1).map(() => null);
    if (!ctx.needs(0)) return [null, ...rest];
    const rank = requireRank(ctx, ctx.x(0));
    const given = ctx.opset >= 18 ? axesOf(ctx, 1) : ctx.attrs.has('axes') ? ctx.attrs.ints('axes') : undefined;
    if ((!given || given.length === 0) && ctx.attrs.int('noop_with_empty_axes', 0) !== 0) return [ctx.dy(0), ...rest];
    const axes = given && given.length > 0 ? [...new Set(given.map((a) => normalizeAxis(ctx, a, rank)))] : Array.from({ length: rank }, (_, i) => i);
    return [routeToExtreme(ctx, axes, rank, ctx.node.opType === 'ReduceMin' ? 'ArgMin' : 'ArgMax'), ...rest];
  },
};

export const globalMaxPoolGrad: GradientRule = {
  opTypes: ['GlobalMaxPool'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null];
    const rank = requireRank(ctx, ctx.x(0));
    return [routeToExtreme(ctx, Array.from({ length: rank - 2 }, (_, i) => i + 2), rank, 'ArgMax')];
  },
};

/** dY placed at the first extreme of every group of X that `axes` reduce; zeros elsewhere. */
function routeToExtreme(ctx: GradContext, axes: number[], rank: number, argOp: 'ArgMax' | 'ArgMin'): Value {
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
  const zeros = b.op('ConstantOfShape', [b.op('Shape', [rows])]);
  const scattered = b.op('ScatterElements', [zeros, index, updates], { axis: -1 });
  const xDims = staticDims(ctx, x);
  const movedShape = xDims ? b.ints(perm.map((a) => xDims[a]), 'shape') : b.op('Shape', [moved]);
  const unflat = b.op('Reshape', [scattered, movedShape]);
  if (identity) return unflat;
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return b.op('Transpose', [unflat], { perm: inverse });
}
