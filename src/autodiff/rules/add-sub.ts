import type { GradientRule } from '../types.js';

/**
 * z = a + b, z = a - b (numpy broadcasting).
 * da = unbroadcast(dz), db = ±unbroadcast(dz).
 */
export const addSubGrad: GradientRule = {
  opTypes: ['Add', 'Sub'],
  grad(ctx) {
    const dz = ctx.dy(0)!;
    const da = ctx.needs(0) ? ctx.unbroadcast(dz, 0) : null;
    let db = null;
    if (ctx.needs(1)) {
      const g = ctx.unbroadcast(dz, 1);
      db = ctx.node.opType === 'Sub' ? ctx.b.neg(g) : g;
    }
    return [da, db];
  },
};
