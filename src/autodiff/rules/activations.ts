import type { GradientRule } from '../types.js';

/**
 * Pointwise activations, each differentiated from the forward output where that is enough:
 *   Relu:      y = max(x, 0)                 dx = dy where y > 0, else 0
 *   LeakyRelu: y = x (x > 0), alpha x        dx = dy where x > 0, else alpha dy
 *   Sigmoid:   y = 1 / (1 + e^-x)            dx = dy * y * (1 - y)
 *   Tanh:      y = tanh x                    dx = dy * (1 - y^2)
 * (At Relu's kink x = 0 the subgradient 0 is used, as PyTorch does.)
 */
export const reluGrad: GradientRule = {
  opTypes: ['Relu'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null];
    const { b } = ctx;
    const positive = b.op('Greater', [ctx.y(0), b.scalar(0)]);
    return [b.op('Where', [positive, ctx.dy(0), b.scalar(0)])];
  },
};

export const leakyReluGrad: GradientRule = {
  opTypes: ['LeakyRelu'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null];
    const { b } = ctx;
    const dy = ctx.dy(0)!;
    const alpha = ctx.attrs.float('alpha', 0.01);
    const positive = b.op('Greater', [ctx.x(0), b.scalar(0)]);
    return [b.op('Where', [positive, dy, b.mul(dy, b.scalar(alpha))])];
  },
};

export const sigmoidGrad: GradientRule = {
  opTypes: ['Sigmoid'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null];
    const { b } = ctx;
    const y = ctx.y(0);
    return [b.mul(ctx.dy(0)!, b.mul(y, b.sub(b.scalar(1), y)))];
  },
};

export const tanhGrad: GradientRule = {
  opTypes: ['Tanh'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null];
    const { b } = ctx;
    const y = ctx.y(0);
    return [b.mul(ctx.dy(0)!, b.sub(b.scalar(1), b.mul(y, y)))];
  },
};
