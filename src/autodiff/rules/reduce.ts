import { DataType } from '../../ir/dtype.js';
import type { Value } from '../../ir/value.js';
import type { GradContext, GradientRule } from '../types.js';
import { axesOf, normalizeAxis } from '../axes.js';
import { requireRank, shapeValue, staticDims, unsqueeze } from '../shapes.js';

/**
 * ReduceSum:  y = sum over axes of x      dx = Expand(dy', shape(x))
 * ReduceMean: y = mean over axes of x     dx = Expand(dy', shape(x)) / (numel(x) / numel(y))
 * dy' is dy with the reduced axes put back as size-1 dims (Unsqueeze when keepdims = 0), so Expand broadcasts it.
 * Axes: an attribute before ReduceSum-13 / ReduceMean-18, an optional input after. No axes means all axes, unless
 * noop_with_empty_axes = 1, when the op is the identity and so is its gradient.
 */
function reducedAxes(ctx: GradContext): number[] | 'none' | 'all' {
  const fromInput = ctx.node.opType === 'ReduceSum' ? ctx.opset >= 13 : ctx.opset >= 18;
  const axes = fromInput ? axesOf(ctx, 1) : ctx.attrs.has('axes') ? ctx.attrs.ints('axes') : undefined;
  if (axes && axes.length > 0) return axes;
  return ctx.attrs.int('noop_with_empty_axes', 0) !== 0 ? 'none' : 'all';
}

function spread(ctx: GradContext, dy: Value, axes: number[] | 'all'): Value {
  const x = ctx.x(0);
  let g = dy;
  if (ctx.attrs.int('keepdims', 1) === 0) {
    const rank = requireRank(ctx, x);
    const restored = axes === 'all' ? Array.from({ length: rank }, (_, i) => i) : axes.map((a) => normalizeAxis(ctx, a, rank)).sort((p, q) => p - q);
    g = restored.length === rank ? ctx.b.op('Reshape', [g, ctx.b.ints(restored.map(() => 1), 'shape')]) : unsqueeze(ctx, g, restored);
  }
  return ctx.b.op('Expand', [g, shapeValue(ctx, x)]);
}

/** numel(y) / numel(x) as a float: a constant when both shapes are static. */
function meanScale(ctx: GradContext): Value {
  const { b } = ctx;
  const sx = staticDims(ctx, ctx.x(0));
  const sy = staticDims(ctx, ctx.y(0));
  if (sx && sy) {
    const count = (s: number[]) => s.reduce((p, q) => p * q, 1);
    return b.scalar(count(sy) / count(sx));
  }
  const size = (v: Value) => b.op('Cast', [b.op('Size', [v])], { to: DataType.FLOAT });
  return b.div(size(ctx.y(0)), size(ctx.x(0)));
}

export const reduceSumMeanGrad: GradientRule = {
  opTypes: ['ReduceSum', 'ReduceMean'],
  grad(ctx) {
    const rest = ctx.node.inputs.slice(1).map(() => null);
    if (!ctx.needs(0)) return [null, ...rest];
    const axes = reducedAxes(ctx);
    if (axes === 'none') return [ctx.dy(0), ...rest];
    const g = spread(ctx, ctx.dy(0)!, axes);
    return [ctx.node.opType === 'ReduceMean' ? ctx.b.mul(g, meanScale(ctx)) : g, ...rest];
  },
};
