import type { GradientRule } from '../types.js';

/**
 *   Sin: y = sin x     dx = dy * cos x
 *   Cos: y = cos x     dx = -dy * sin x
 * (positional encodings and rotary embeddings in exported transformers).
 */
export const sinGrad: GradientRule = {
  opTypes: ['Sin'],
  grad: (ctx) => [ctx.needs(0) ? ctx.b.mul(ctx.dy(0)!, ctx.b.op('Cos', [ctx.x(0)])) : null],
};

export const cosGrad: GradientRule = {
  opTypes: ['Cos'],
  grad: (ctx) => [ctx.needs(0) ? ctx.b.neg(ctx.b.mul(ctx.dy(0)!, ctx.b.op('Sin', [ctx.x(0)]))) : null],
};
