import type { GradientRule } from '../types.js';

/**
 *   Exp:  y = e^x      dx = dy * y
 *   Log:  y = ln x     dx = dy / x
 *   Sqrt: y = sqrt x   dx = dy / (2 y) = dy * 0.5 / y
 */
export const expGrad: GradientRule = {
  opTypes: ['Exp'],
  grad: (ctx) => [ctx.needs(0) ? ctx.b.mul(ctx.dy(0)!, ctx.y(0)) : null],
};

export const logGrad: GradientRule = {
  opTypes: ['Log'],
  grad: (ctx) => [ctx.needs(0) ? ctx.b.div(ctx.dy(0)!, ctx.x(0)) : null],
};

export const sqrtGrad: GradientRule = {
  opTypes: ['Sqrt'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null];
    const { b } = ctx;
    return [b.div(b.mul(ctx.dy(0)!, b.scalar(0.5)), ctx.y(0))];
  },
};
