import type { GradientRule } from '../types.js';

/**
 * y = x where x > 0, else slope * x  (slope broadcasts to x, e.g. [C, 1, 1] per channel for [N, C, H, W]):
 *   dx     = dy where x > 0, else slope * dy
 *   dslope = unbroadcast(dy * x where x <= 0, else 0)
 * At the kink x = 0 the negative side is used, which gives dx = slope * dy (PyTorch does the same).
 */
export const preluGrad: GradientRule = {
  opTypes: ['PRelu'],
  grad(ctx) {
    const { b } = ctx;
    const dy = ctx.dy(0)!;
    const x = ctx.x(0);
    const positive = b.op('Greater', [x, b.scalar(0)]);
    const dx = ctx.needs(0) ? b.op('Where', [positive, dy, b.mul(dy, ctx.x(1))]) : null;
    const dslope = ctx.needs(1) ? ctx.unbroadcast(b.op('Where', [positive, b.scalar(0), b.mul(dy, x)]), 1) : null;
    return [dx, dslope];
  },
};
