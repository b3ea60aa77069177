/**
 * Y = Tile(X, repeats): Y[k_0 d_0 + i_0, ...] = X[i_0, ...] for every copy k_j < repeats[j], X of shape d.
 *
 *   dX[i] = sum over copies k of dY[k d + i]: dY reshaped to [r_0, d_0, r_1, d_1, ...] and summed over the r axes
 *   (../block-sum.ts). repeats and d come from constants when known, from the run-time values otherwise.
 */
import type { GradientRule } from '../types.js';
import { sumBlocks } from '../block-sum.js';
import { requireRank, staticDims } from '../shapes.js';

export const tileGrad: GradientRule = {
  opTypes: ['Tile'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null, null];
    const x = ctx.x(0);
    const repeats = ctx.ints(ctx.x(1)) ?? ctx.x(1);
    const sizes = staticDims(ctx, x) ?? ctx.shapeOf(x);
    return [sumBlocks(ctx, ctx.dy(0)!, repeats, sizes, 'outer', requireRank(ctx, x)), null];
  },
};
