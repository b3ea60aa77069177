import type { GradientRule } from '../types.js';

/** y = log(1 + exp(x)); dx = dy * sigmoid(x). Used by binary cross-entropy on logits. */
export const softplusGrad: GradientRule = {
  opTypes: ['Softplus'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null];
    return [ctx.b.mul(ctx.dy(0)!, ctx.b.op('Sigmoid', [ctx.x(0)]))];
  },
};
