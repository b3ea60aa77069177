/**
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
 */
import { RegraftError } from '../../errors.js';
import type { Value } from '../../ir/value.js';
import type { GradientRule } from '../types.js';
import { reduceMean } from '../axes.js';
import { reduceKeep } from '../axes.js';
import { normalizeAxis } from '../axes.js';
import { requireRank } from '../shapes.js';

export const meanVarianceNormGrad: GradientRule = {
  opTypes: ['MeanVarianceNormalization'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null];
    const { b } = ctx;
    const x = ctx.x(0);
    const rank = requireRank(ctx, x);
    const axes = (ctx.attrs.has('axes') ? ctx.attrs.ints('axes') : [0, 2, 3]).map((a) => normalizeAxis(ctx, a, rank));
    const mean = (v: Value) => reduceMean(ctx, v, axes, true);
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
