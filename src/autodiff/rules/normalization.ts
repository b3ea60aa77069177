/**
 * Normalizations (BatchNormalization, with its training and inference modes, is in batchnorm.ts): LayerNormalization,
 * InstanceNormalization, GroupNormalization, MeanVarianceNormalization, LpNormalization and LRN.
 *
 * (Y, Mean, InvStdDev) = LayerNormalization(X, scale, B) (opset 17), normalized axes A = {axis, ..., r-1}
 * (H = their element count), leading axes L = {0, ..., axis-1}; scale and B broadcast over L (and may broadcast
 * within A too):
 *   mu = mean_A(X), inv = 1 / sqrt(mean_A((X - mu)^2) + eps), xhat = (X - mu) * inv, Y = xhat * scale + B
 *
 *   dB     = sum_L(dY), then summed down to B's shape
 *   dScale = sum_L(dY * xhat), then summed down to scale's shape
 *   dX     = inv * (g - mean_A(g) - xhat * mean_A(g * xhat)),   g = dY * scale
 * Mean and InvStdDev are taken from the node's outputs when it has them (they are the forward's mu and inv).
 *
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
 *
 * Y = GroupNormalization(X, scale, bias), X [N, C, *S] seen as X4 [N, G, C/G, M] (G = num_groups, M = prod S),
 * statistics per (n, g) over the group's channels and positions (axes 2, 3 of X4):
 *
 *   mu = mean X4,  var = mean (X4 - mu)^2,  istd = 1 / sqrt(var + epsilon),  Xhat = (X4 - mu) istd
 *   Y4 = s Xhat + bias
 *
 * where s is scale broadcast to X4: opset 18 gives one scale and bias per GROUP (shape [G] -> [G, 1, 1]), opset 21
 * one per CHANNEL (shape [C] -> [G, C/G, 1]); the spec changed the shapes between the two versions. Then
 *
 *   dX4    = istd (Gr - mean Gr - Xhat mean (Gr Xhat)),  Gr = dY4 s      (the layer-norm formula per group)
 *   dscale = sum of dY4 Xhat, dbias = sum of dY4, over the axes a scale entry is shared along:
 *            [0, 2, 3] for opset 18, [0, 3] (then reshaped to [C]) for opset 21.
 * The forward op keeps no statistics, so mu and istd are recomputed. stash_type only sets the precision of the
 * statistics, which are float here. C must be static (it sets the [N, G, C/G, M] view).
 *
 * MeanVarianceNormalization: y = (x - mu) / sigma over `axes` (default [0, 2, 3]), mu the mean and sigma the
 * (biased) standard deviation there. With y the normalized value:
 *     dx = (dy - mean(dy) - y mean(dy y)) / sigma            (means over the same axes)
 * sigma is recomputed (the forward op keeps no statistics); onnxruntime's tiny epsilon in the denominator is below
 * float precision for any non-constant slice and is left out.
 *
 * LpNormalization: y = x / n along `axis` (default -1), n = ||x||_p for p = 2 (default) or 1:
 *     p = 2: dx = (dy - y sum(dy y)) / n
 *     p = 1: dx = (dy - sign(x) sum(dy y)) / n
 * (d n / d x = x / n for p = 2 and sign(x) for p = 1; sums along the axis). Other p are refused.
 *
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
import { RegraftError } from '../../errors.js';
import type { Value } from '../../ir/value.js';
import { normalizeAxis, reduceKeep, reduceMean } from '../axes.js';
import { requireRank, shapeValue, squeeze, unsqueeze } from '../shapes.js';
import type { GradContext, GradientRule } from '../types.js';
import { unbroadcast } from '../unbroadcast.js';

export const layerNormGrad: GradientRule = {
  opTypes: ['LayerNormalization'],
  grad(ctx) {
    const { b } = ctx;
    if (ctx.dy(1) || ctx.dy(2)) {
      throw new RegraftError(`${ctx.node.describe()}: the Mean/InvStdDev outputs reach the loss; the gradient rule differentiates only Y, so compute statistics for the loss separately`);
    }
    const dy = ctx.dy(0)!;
    const x = ctx.x(0);
    const xShape = ctx.shape(x);
    if (!xShape) {
      throw new RegraftError(`${ctx.node.describe()}: the rank of input '${x.name}' is unknown, so the normalized axes are too; ${ctx.lostTrack(x, 'rank')}`);
    }
    const rank = xShape.length;
    const rawAxis = ctx.attrs.int('axis', -1);
    const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
    const normAxes = Array.from({ length: rank - axis }, (_, i) => axis + i);
    const leadAxes = Array.from({ length: axis }, (_, i) => i);

    const mu = ctx.node.outputs[1] ?? reduceMean(ctx, x, normAxes);
    const centered = b.sub(x, mu);
    const inv = ctx.node.outputs[2] ?? b.op('Reciprocal', [b.op('Sqrt', [b.add(reduceMean(ctx, b.mul(centered, centered), normAxes), b.scalar(ctx.attrs.float('epsilon', 1e-5)))])]);
    const xhat = b.mul(centered, inv);

    // Sum over the leading axes, then over whatever scale/B broadcast within the normalized axes.
    const toParam = (g: Value, i: number) => {
      const summed = leadAxes.length > 0 ? b.reduceSum(g, leadAxes, false) : g;
      const param = ctx.x(i);
      return unbroadcast({ b, grad: summed, resultShape: xShape.slice(axis), input: param, inputShape: ctx.shape(param), opset: ctx.opset, shapeOf: ctx.shapeOf, where: ctx.node.describe() });
    };
    const dScale = ctx.needs(1) ? toParam(b.mul(dy, xhat), 1) : null;
    const dB = ctx.hasInput(2) && ctx.needs(2) ? toParam(dy, 2) : null;
    let dX: Value | null = null;
    if (ctx.needs(0)) {
      const g = b.mul(dy, ctx.x(1));
      const gMean = reduceMean(ctx, g, normAxes);
      const projMean = reduceMean(ctx, b.mul(g, xhat), normAxes);
      dX = b.mul(inv, b.sub(b.sub(g, gMean), b.mul(xhat, projMean)));
    }
    return [dX, dScale, dB];
  },
};

export const instanceNormGrad: GradientRule = {
  opTypes: ['InstanceNormalization'],
  grad(ctx) {
    const { b } = ctx;
    const x = ctx.x(0);
    const dy = ctx.dy(0)!;
    const r = requireRank(ctx, x);
    const spatial = Array.from({ length: r - 2 }, (_, i) => i + 2);
    const channelSums = (v: Value) => b.reduceSum(v, [0, ...spatial], false);
    const mu = reduceMean(ctx, x, spatial);
    const centered = b.sub(x, mu);
    const variance = reduceMean(ctx, b.mul(centered, centered), spatial);
    const istd = b.op('Reciprocal', [b.op('Sqrt', [b.add(variance, b.scalar(ctx.attrs.float('epsilon', 1e-5)))])]);
    const xhat = b.mul(centered, istd);

    let dx: Value | null = null;
    if (ctx.needs(0)) {
      // scale [C] -> [C, 1, ..., 1] so it broadcasts over [N, C, *S].
      const g = b.mul(dy, unsqueeze(ctx, ctx.x(1), spatial.map((a) => a - 1)));
      const inner = b.sub(b.sub(g, reduceMean(ctx, g, spatial)), b.mul(xhat, reduceMean(ctx, b.mul(g, xhat), spatial)));
      dx = b.mul(istd, inner);
    }
    const dscale = ctx.needs(1) ? channelSums(b.mul(dy, xhat)) : null;
    const dbias = ctx.needs(2) ? channelSums(dy) : null;
    return [dx, dscale, dbias];
  },
};

export const groupNormGrad: GradientRule = {
  opTypes: ['GroupNormalization'],
  grad(ctx) {
    const { b } = ctx;
    const x = ctx.x(0);
    requireRank(ctx, x);
    const channels = ctx.shape(x)?.[1];
    const groups = ctx.attrs.int('num_groups');
    if (typeof channels !== 'number') {
      throw new RegraftError(`${ctx.node.describe()}: the channel count of '${x.name}' is not static; declare the model's input shapes so the GroupNormalization gradient can view it as groups`);
    }
    const perGroup = channels / groups;
    const perChannel = ctx.opset >= 21;
    const view = (v: Value) => b.op('Reshape', [v, b.ints([0, groups, perGroup, -1], 'shape')]);
    const stats = [2, 3];
    const x4 = view(x);
    const dy4 = view(ctx.dy(0)!);
    const mu = reduceMean(ctx, x4, stats);
    const centered = b.sub(x4, mu);
    const variance = reduceMean(ctx, b.mul(centered, centered), stats);
    const istd = b.op('Reciprocal', [b.op('Sqrt', [b.add(variance, b.scalar(ctx.attrs.float('epsilon', 1e-5)))])]);
    const xhat = b.mul(centered, istd);

    // The axes of X4 along which one scale/bias entry is shared, and the parameters' own shape.
    const shared = perChannel ? [0, 3] : [0, 2, 3];
    const paramSums = (v: Value) => {
      const s = b.reduceSum(v, shared, false);
      return perChannel ? b.op('Reshape', [s, b.ints([channels], 'shape')]) : s;
    };
    let dx: Value | null = null;
    if (ctx.needs(0)) {
      const scale = b.op('Reshape', [ctx.x(1), b.ints(perChannel ? [groups, perGroup, 1] : [groups, 1, 1], 'shape')]);
      const g = b.mul(dy4, scale);
      const inner = b.sub(b.sub(g, reduceMean(ctx, g, stats)), b.mul(xhat, reduceMean(ctx, b.mul(g, xhat), stats)));
      dx = b.op('Reshape', [b.mul(istd, inner), shapeValue(ctx, x)]);
    }
    const dscale = ctx.needs(1) ? paramSums(b.mul(dy4, xhat)) : null;
    const dbias = ctx.needs(2) ? paramSums(dy4) : null;
    return [dx, dscale, dbias];
  },
};

export const meanVarianceNormGrad: GradientRule = {
  opTypes: ['MeanVarianceNormalization'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null];
    const { b } = ctx;
    const x = ctx.x(0);
    const rank = requireRank(ctx, x);
    const axes = (ctx.attrs.has('axes') ? ctx.attrs.ints('axes') : [0, 2, 3]).map((a) => normalizeAxis(ctx, a, rank));
    const mean = (v: Value) => reduceMean(ctx, v, axes);
    const centered = b.sub(x, mean(x));
    const sigma = b.op('Sqrt', [mean(b.mul(centered, centered))]);
    const y = ctx.y(0);
    const dy = ctx.dy(0)!;
    const inner = b.sub(b.sub(dy, mean(dy)), b.mul(y, mean(b.mul(dy, y))));
    return [b.div(inner, sigma)];
  },
};

export const lpNormGrad: GradientRule = {
  opTypes: ['LpNormalization'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null];
    const p = ctx.attrs.int('p', 2);
    if (p !== 1 && p !== 2) {
      throw new RegraftError(`${ctx.node.describe()}: LpNormalization with p = ${p} has no gradient rule (p is 1 or 2 in ONNX); re-export with p = 1 or 2`);
    }
    const { b } = ctx;
    const x = ctx.x(0);
    const axis = [normalizeAxis(ctx, ctx.attrs.int('axis', -1), requireRank(ctx, x))];
    const y = ctx.y(0);
    const dy = ctx.dy(0)!;
    const norm = reduceKeep(ctx, p === 2 ? 'ReduceL2' : 'ReduceL1', x, axis);
    const along = b.reduceSum(b.mul(dy, y), axis, true);
    const slope = p === 2 ? y : b.op('Sign', [x]);
    return [b.div(b.sub(dy, b.mul(slope, along)), norm)];
  },
};

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
