/**
 * Y = InstanceNormalization(X, scale, B): X [N, C, *S], statistics per (n, c) over the spatial axes S (count m):
 *
 *   mu = mean_S X,  var = mean_S (X - mu)^2,  istd = 1 / sqrt(var + epsilon),  Xhat = (X - mu) istd
 *   Y  = scale[c] Xhat + B[c]
 *
 *   dB[c]     = sum_{n, S} dY
 *   dscale[c] = sum_{n, S} dY Xhat
 *   dX        = istd (G - mean_S G - Xhat mean_S (G Xhat)),  G = dY scale[c]
 * (the layer-norm formula with the normalized axes S). The forward op keeps no statistics, so mu and istd are
 * recomputed.
 */
import type { Value } from '../../ir/value.js';
import type { GradientRule } from '../types.js';
import { reduceMean } from '../axes.js';
import { requireRank, unsqueeze } from '../shapes.js';

export const instanceNormGrad: GradientRule = {
  opTypes: ['InstanceNormalization'],
  grad(ctx) {
    const { b } = ctx;
    const x = ctx.x(0);
    const dy = ctx.dy(0)!;
    const r = requireRank(ctx, x);
    const spatial = Array.from({ length: r - 2 }, (_, i) => i + 2);
    const channelSums = (v: Value) => b.reduceSum(v, [0, ...spatial], false);
    const mu = reduceMean(ctx, x, spatial, true);
    const centered = b.sub(x, mu);
    const variance = reduceMean(ctx, b.mul(centered, centered), spatial, true);
    const istd = b.op('Reciprocal', [b.op('Sqrt', [b.add(variance, b.scalar(ctx.attrs.float('epsilon', 1e-5)))])]);
    const xhat = b.mul(centered, istd);

    let dx: Value | null = null;
    if (ctx.needs(0)) {
      // scale [C] -> [C, 1, ..., 1] so it broadcasts over [N, C, *S].
      const g = b.mul(dy, unsqueeze(ctx, ctx.x(1), spatial.map((a) => a - 1)));
      const inner = b.sub(b.sub(g, reduceMean(ctx, g, spatial, true)), b.mul(xhat, reduceMean(ctx, b.mul(g, xhat), spatial, true)));
      dx = b.mul(istd, inner);
    }
    const dscale = ctx.needs(1) ? channelSums(b.mul(dy, xhat)) : null;
    const dbias = ctx.needs(2) ? channelSums(dy) : null;
    return [dx, dscale, dbias];
  },
};
