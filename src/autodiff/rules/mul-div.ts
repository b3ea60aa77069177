import type { GradientRule } from '../types.js';

/**
 * z = a * b (broadcasting): da = unbroadcast(dz * b), db = unbroadcast(dz * a).
 * z = a / b:                 da = unbroadcast(dz / b), db = unbroadcast(-dz * z / b)   (z = a / b, reused).
 * y = -x:                    dx = -dy.
 */
export const mulGrad: GradientRule = {
  opTypes: ['Mul'],
  grad(ctx) {
    const dz = ctx.dy(0)!;
    const { b } = ctx;
    const da = ctx.needs(0) ? ctx.unbroadcast(b.mul(dz, ctx.x(1)), 0) : null;
    const db = ctx.needs(1) ? ctx.unbroadcast(b.mul(dz, ctx.x(0)), 1) : null;
    return [da, db];
  },
};

export const divGrad: GradientRule = {
  opTypes: ['Div'],
  grad(ctx) {
    const dz = ctx.dy(0)!;
    const { b } = ctx;
    const da = ctx.needs(0) ? ctx.unbroadcast(b.div(dz, ctx.x(1)), 0) : null;
    const db = ctx.needs(1) ? ctx.unbroadcast(b.neg(b.div(b.mul(dz, ctx.y(0)), ctx.x(1))), 1) : null;
    return [da, db];
  },
};

export const negGrad: GradientRule = {
  opTypes: ['Neg'],
  grad: (ctx) => [ctx.needs(0) ? ctx.b.neg(ctx.dy(0)!) : null],
};
