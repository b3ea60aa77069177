/**
 * Y = ReduceLogSumExp(X) = log sum_{axes} exp(X)
 *
 *   dX = dY' exp(X - Y')      (the softmax of X over the reduced axes)
 *
 * where Y' and dY' have the reduced axes back as size-1 dims (Unsqueeze when keepdims = 0) so they broadcast
 * against X. Axes are an attribute before opset 18 and an optional input from 18; none means all, unless
 * noop_with_empty_axes = 1 makes the op (and its gradient) the identity.
 */
import type { Value } from '../../ir/value.js';
import type { GradContext, GradientRule } from '../types.js';
import { axesOf, normalizeAxis } from '../axes.js';
import { requireRank, unsqueeze } from '../shapes.js';

export const reduceLogSumExpGrad: GradientRule = {
  opTypes: ['ReduceLogSumExp'],
  grad(ctx) {
    const rest = ctx.node.inputs.slice(1).map(() => null);
    if (!ctx.needs(0)) return [null, ...rest];
    const x = ctx.x(0);
    const listed = ctx.opset >= 18 ? axesOf(ctx, 1) : ctx.attrs.has('axes') ? ctx.attrs.ints('axes') : undefined;
    const empty = !listed || listed.length === 0;
    if (empty && ctx.attrs.int('noop_with_empty_axes', 0) !== 0) return [ctx.dy(0), ...rest];
    const rank = requireRank(ctx, x);
    const axes = empty ? Array.from({ length: rank }, (_, i) => i) : listed.map((a) => normalizeAxis(ctx, a, rank)).sort((p, q) => p - q);
    const restore = (v: Value) => (ctx.attrs.int('keepdims', 1) === 0 ? restoreAxes(ctx, v, axes, rank) : v);
    const { b } = ctx;
    const softmax = b.op('Exp', [b.sub(x, restore(ctx.y(0)))]);
    return [b.mul(restore(ctx.dy(0)!), softmax), ...rest];
  },
};

/** Puts the reduced axes back as size-1 dims (a Reshape for a full reduction, whose result may be a scalar). */
function restoreAxes(ctx: GradContext, v: Value, axes: number[], rank: number): Value {
  if (axes.length === rank) return ctx.b.op('Reshape', [v, ctx.b.ints(axes.map(() => 1), 'shape')]);
  return unsqueeze(ctx, v, axes);
}
