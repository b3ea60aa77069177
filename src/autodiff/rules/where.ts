import type { GradientRule } from '../types.js';

/**
 * z = Where(c, x, y) (broadcasting):  dx = unbroadcast(dz where c, else 0),  dy = unbroadcast(dz where not c, else 0).
 * The condition is boolean and gets no gradient.
 */
export const whereGrad: GradientRule = {
  opTypes: ['Where'],
  grad(ctx) {
    const { b } = ctx;
    const dz = ctx.dy(0)!;
    const cond = ctx.x(0);
    const zero = b.scalar(0);
    const dx = ctx.needs(1) ? ctx.unbroadcast(b.op('Where', [cond, dz, zero]), 1) : null;
    const dy = ctx.needs(2) ? ctx.unbroadcast(b.op('Where', [cond, zero, dz]), 2) : null;
    return [null, dx, dy];
  },
};
