/**
 * Y = BatchNormalization(X, scale, B, mean, var): X [N, C, *S], per-channel statistics over the axes A = {0, 2, ...}
 * (M = N * prod(S) elements per channel).
 *
 * Training mode (training_mode=1 from opset 14, as PyTorch exports training graphs): the batch statistics
 *   mu = mean_A(X), sigma2 = mean_A((X - mu)^2) (biased), inv = 1 / sqrt(sigma2 + eps), xhat = (X - mu) * inv,
 *   Y = scale * xhat + B; the mean/var inputs only feed the running statistics, so they get no gradient.
 *   dB     = sum_A(dY)
 *   dScale = sum_A(dY * xhat)
 *   dX     = scale * inv * (dY - mean_A(dY) - xhat * mean_A(dY * xhat))
 * The statistics are recomputed from X (onnxruntime's outputs 1 and 2 are the running averages, not them).
 *
 * Inference mode (the given mean and var): Y = scale * (X - mean) * inv + B with inv = 1 / sqrt(var + eps):
 *   dX = dY * scale * inv, dB = sum_A(dY), dScale = sum_A(dY * xhat),
 *   dmean = -scale * inv * dB, dvar = -scale * inv^2 * dScale / 2.
 */
import { RegraftError } from '../../errors.js';
import type { Value } from '../../ir/value.js';
import type { GradientRule } from '../types.js';
import { reduceMean } from '../axes.js';
import { isTrainingMode } from '../forward-outputs.js';

export const batchNormGrad: GradientRule = {
  opTypes: ['BatchNormalization'],
  grad(ctx) {
    const { b } = ctx;
    if (ctx.dy(1) || ctx.dy(2)) {
      throw new RegraftError(`${ctx.node.describe()}: the running statistics outputs reach the loss, but they are not differentiable; feed them back as state, not into the loss`);
    }
    const dy = ctx.dy(0)!;
    const x = ctx.x(0);
    const rank = ctx.rank(x);
    if (rank === undefined) {
      throw new RegraftError(`${ctx.node.describe()}: the rank of input '${x.name}' is unknown, so the reduction axes are too; ${ctx.lostTrack(x, 'rank')}`);
    }
    const axes = [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];
    // [C] -> [C, 1, ..., 1], which broadcasts against [N, C, *S].
    const perChannel = (v: Value) => (rank > 2 ? b.op('Reshape', [v, b.ints([-1, ...axes.slice(1).map(() => 1)], 'channel_shape')]) : v);
    const eps = b.scalar(ctx.attrs.float('epsilon', 1e-5));
    const training = isTrainingMode(ctx.node, ctx.opset);

    const mu = training ? reduceMean(ctx, x, axes) : perChannel(ctx.x(3));
    const centered = b.sub(x, mu);
    const variance = training ? reduceMean(ctx, b.mul(centered, centered), axes) : perChannel(ctx.x(4));
    const inv = b.op('Reciprocal', [b.op('Sqrt', [b.add(variance, eps)])]);
    const xhat = b.mul(centered, inv);
    const scaleInv = b.mul(perChannel(ctx.x(1)), inv);

    const wantStats = !training && (ctx.needs(3) || ctx.needs(4));
    const dB = ctx.needs(2) || ctx.needs(3) ? b.reduceSum(dy, axes, false) : null;
    const dScale = ctx.needs(1) || (wantStats && ctx.needs(4)) ? b.reduceSum(b.mul(dy, xhat), axes, false) : null;
    let dX: Value | null = null;
    if (ctx.needs(0)) {
      if (training) {
        const dyMean = reduceMean(ctx, dy, axes);
        const projMean = reduceMean(ctx, b.mul(dy, xhat), axes);
        dX = b.mul(scaleInv, b.sub(b.sub(dy, dyMean), b.mul(xhat, projMean)));
      } else {
        dX = b.mul(dy, scaleInv);
      }
    }
    let dMean: Value | null = null;
    let dVar: Value | null = null;
    if (wantStats) {
      const scale = ctx.x(1);
      const invC = b.op('Reciprocal', [b.op('Sqrt', [b.add(ctx.x(4), eps)])]);
      if (ctx.needs(3)) dMean = b.neg(b.mul(b.mul(scale, invC), dB!));
      if (ctx.needs(4)) dVar = b.mul(b.mul(b.mul(scale, b.mul(invC, invC)), dScale!), b.scalar(-0.5));
    }
    return [dX, ctx.needs(1) ? dScale : null, ctx.needs(2) ? dB : null, dMean, dVar];
  },
};
