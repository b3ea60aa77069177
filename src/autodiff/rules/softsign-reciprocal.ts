import type { GradientRule } from '../types.js';

/**
 * Rational pointwise functions:
 *   Softsign:   y = x / (1 + |x|)     dx = dy / (1 + |x|)^2
 *   Reciprocal: y = 1 / x             dx = -dy * y^2          (reuses the forward output)
 */
export const softsignGrad: GradientRule = {
  opTypes: ['Softsign'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null];
    const { b } = ctx;
    const denom = b.add(b.scalar(1), b.op('Abs', [ctx.x(0)]));
    return [b.div(ctx.dy(0)!, b.mul(denom, denom))];
  },
};

export const reciprocalGrad: GradientRule = {
  opTypes: ['Reciprocal'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null];
    const { b } = ctx;
    const y = ctx.y(0);
    return [b.neg(b.mul(ctx.dy(0)!, b.mul(y, y)))];
  },
};
