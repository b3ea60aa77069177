import type { Value } from '../../ir/value.js';
import type { GradContext, GradientRule } from '../types.js';

/**
 * y = min(max(x, lo), hi);  dx = dy where lo < x < hi, else 0.  The bounds get no gradient.
 *
 * Bounds are optional inputs 1 and 2 from opset 11 and the `min`/`max` attributes before (an absent bound is
 * unbounded, so it adds no condition). At a bound itself the subgradient 0 is used, as for Relu and as PyTorch's
 * hardtanh/ReLU6 do (PyTorch's clamp would pass it; the value only differs on a measure-zero set).
 */
export const clipGrad: GradientRule = {
  opTypes: ['Clip'],
  grad(ctx) {
    const rest = ctx.node.inputs.slice(1).map(() => null);
    if (!ctx.needs(0)) return [null, ...rest];
    const { b } = ctx;
    const x = ctx.x(0);
    const [lo, hi] = bounds(ctx);
    const inside = [lo && b.op('Greater', [x, lo]), hi && b.op('Less', [x, hi])].filter((m): m is Value => m !== null);
    if (inside.length === 0) return [ctx.dy(0), ...rest];
    const mask = inside.length === 1 ? inside[0] : b.op('And', inside);
    return [b.op('Where', [mask, ctx.dy(0)!, b.scalar(0)]), ...rest];
  },
};

/** The lower and upper bound as values (null when unbounded), from inputs (opset 11+) or attributes. */
function bounds(ctx: GradContext): [Value | null, Value | null] {
  if (ctx.opset >= 11) return [ctx.hasInput(1) ? ctx.x(1) : null, ctx.hasInput(2) ? ctx.x(2) : null];
  const { attrs, b } = ctx;
  return [attrs.has('min') ? b.scalar(attrs.float('min')) : null, attrs.has('max') ? b.scalar(attrs.float('max')) : null];
}
