import type { GradientRule } from '../types.js';

/**
 * y = |x|; dx = dy * sign(x) (0 at x = 0, the subgradient PyTorch uses). Needed by the L1 penalty and the L1 loss.
 */
export const absGrad: GradientRule = {
  opTypes: ['Abs'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null];
    return [ctx.b.mul(ctx.dy(0)!, ctx.b.op('Sign', [ctx.x(0)]))];
  },
};
