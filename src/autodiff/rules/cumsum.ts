/**
 * Y = CumSum(X, axis) along one axis (exclusive e, reverse r attributes):
 *   forward, inclusive:  Y[i] = sum_{j <= i} X[j]        exclusive: sum_{j < i}
 *   dX[j] = sum over the i whose sum contains X[j] of dY[i] = sum_{i >= j} dY[i] (inclusive) or sum_{i > j} (exclusive)
 * which is CumSum(dY, axis) with the same `exclusive` and the direction flipped (reverse = 1 - r). The axis input
 * is reused as is and gets no gradient.
 */
import type { GradientRule } from '../types.js';

export const cumSumGrad: GradientRule = {
  opTypes: ['CumSum'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null, null];
    const exclusive = ctx.attrs.int('exclusive', 0);
    const reverse = ctx.attrs.int('reverse', 0) === 0 ? 1 : 0;
    return [ctx.b.op('CumSum', [ctx.dy(0)!, ctx.x(1)], { exclusive, reverse }), null];
  },
};
