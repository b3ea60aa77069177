/**
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
 */
import { RegraftError } from '../../errors.js';
import type { Value } from '../../ir/value.js';
import type { GradientRule } from '../types.js';
import { reduceMean } from '../axes.js';
import { requireRank, shapeValue } from '../shapes.js';

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
    const mu = reduceMean(ctx, x4, stats, true);
    const centered = b.sub(x4, mu);
    const variance = reduceMean(ctx, b.mul(centered, centered), stats, true);
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
      const inner = b.sub(b.sub(g, reduceMean(ctx, g, stats, true)), b.mul(xhat, reduceMean(ctx, b.mul(g, xhat), stats, true)));
      dx = b.op('Reshape', [b.mul(istd, inner), shapeValue(ctx, x)]);
    }
    const dscale = ctx.needs(1) ? paramSums(b.mul(dy4, xhat)) : null;
    const dbias = ctx.needs(2) ? paramSums(dy4) : null;
    return [dx, dscale, dbias];
  },
};
