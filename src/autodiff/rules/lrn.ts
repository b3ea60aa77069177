/**
 * Y = LRN(X), X [N, C, *S], across channels (size, alpha 1e-4, beta 0.75, bias 1):
 *
 *   Q[c] = sum_{i = c - lo}^{c + hi} X[i]^2   (i within [0, C)),  lo = floor((size - 1) / 2), hi = ceil((size - 1) / 2)
 *   D    = bias + (alpha / size) Q,   Y = X D^(-beta)
 *
 *   dX[j] = dY[j] D[j]^(-beta) - (2 alpha beta / size) X[j] sum_{c : j in window(c)} dY[c] X[c] D[c]^(-beta - 1)
 *
 * j is in window(c) exactly when c - lo <= j <= c + hi, i.e. c in [j - hi, j + lo]: the adjoint of the window sum is
 * the same sum with lo and hi exchanged. Both sums are a Conv with a [size, 1, ..., 1] ones kernel over the channel
 * axis, made a spatial axis by Unsqueeze: [N, C, *S] -> [N, 1, C, *S]; channel pads (lo, hi) or (hi, lo).
 */
import type { Value } from '../../ir/value.js';
import type { GradContext, GradientRule } from '../types.js';
import { requireRank, squeeze, unsqueeze } from '../shapes.js';

export const lrnGrad: GradientRule = {
  opTypes: ['LRN'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null];
    const { b } = ctx;
    const x = ctx.x(0);
    const dy = ctx.dy(0)!;
    const size = ctx.attrs.int('size');
    const alpha = ctx.attrs.float('alpha', 1e-4);
    const beta = ctx.attrs.float('beta', 0.75);
    const bias = ctx.attrs.float('bias', 1);
    const r = requireRank(ctx, x);
    const lo = Math.floor((size - 1) / 2);
    const hi = Math.ceil((size - 1) / 2);

    const kernelShape = [1, 1, size, ...Array.from({ length: r - 2 }, () => 1)];
    const ones = b.floatInit('lrn_window', new Float32Array(size).fill(1), kernelShape);
    const d = b.add(b.scalar(bias), b.mul(b.scalar(alpha / size), channelWindowSum(ctx, b.mul(x, x), ones, lo, hi, r)));
    const dPowBeta = b.op('Pow', [d, b.scalar(-beta)]);
    const direct = b.mul(dy, dPowBeta);
    const t = b.mul(b.mul(dy, x), b.div(dPowBeta, d));
    const spread = channelWindowSum(ctx, t, ones, hi, lo, r);
    return [b.sub(direct, b.mul(b.scalar((2 * alpha * beta) / size), b.mul(x, spread)))];
  },
};

/** out[c] = sum_{i = c - before}^{c + after} v[i] over the channel axis of v [N, C, *S], zeros outside [0, C). */
function channelWindowSum(ctx: GradContext, v: Value, ones: Value, before: number, after: number, r: number): Value {
  const { b } = ctx;
  const zeros = Array.from({ length: r - 2 }, () => 0);
  const summed = b.op('Conv', [unsqueeze(ctx, v, [1]), ones], { pads: [before, ...zeros, after, ...zeros] });
  return squeeze(ctx, summed, [1]);
}
