import type { GradientRule } from '../types.js';

/**
 * Exponential linear units, differentiated from the forward output on the negative side:
 *   Elu:  y = x (x > 0), alpha (e^x - 1)                   dx = dy where x > 0, else dy * (y + alpha)
 *   Selu: y = gamma x (x > 0), gamma alpha (e^x - 1)       dx = gamma dy where x > 0, else dy * (y + gamma alpha)
 * (since d/dx alpha (e^x - 1) = alpha e^x = y + alpha). Attribute defaults are the ONNX ones.
 */
const SELU_ALPHA = 1.67326319217681884765625;
const SELU_GAMMA = 1.05070102214813232421875;

export const eluGrad: GradientRule = {
  opTypes: ['Elu'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null];
    const { b } = ctx;
    const dy = ctx.dy(0)!;
    const alpha = ctx.attrs.float('alpha', 1);
    const positive = b.op('Greater', [ctx.x(0), b.scalar(0)]);
    return [b.op('Where', [positive, dy, b.mul(dy, b.add(ctx.y(0), b.scalar(alpha)))])];
  },
};

export const seluGrad: GradientRule = {
  opTypes: ['Selu'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null];
    const { b } = ctx;
    const dy = ctx.dy(0)!;
    const alpha = ctx.attrs.float('alpha', SELU_ALPHA);
    const gamma = ctx.attrs.float('gamma', SELU_GAMMA);
    const positive = b.op('Greater', [ctx.x(0), b.scalar(0)]);
    const negativeSlope = b.add(ctx.y(0), b.scalar(gamma * alpha));
    return [b.op('Where', [positive, b.mul(dy, b.scalar(gamma)), b.mul(dy, negativeSlope)])];
  },
};
