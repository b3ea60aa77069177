/**
 * y = Mean(x_0, ..., x_n-1) = (x_0 + ... + x_n-1) / n, broadcasting:   dx_i = unbroadcast(dy / n, i)
 * (the elementwise mean of several tensors, e.g. averaged heads or ensembles).
 */
import type { GradientRule } from '../types.js';

export const meanGrad: GradientRule = {
  opTypes: ['Mean'],
  grad(ctx) {
    const n = ctx.node.inputs.length;
    const scaled = ctx.b.mul(ctx.dy(0)!, ctx.b.scalar(1 / n));
    return ctx.node.inputs.map((_, i) => (ctx.needs(i) ? ctx.unbroadcast(scaled, i) : null));
  },
};
