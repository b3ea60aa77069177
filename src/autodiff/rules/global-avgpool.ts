/**
 * Y = GlobalAveragePool(X): X [N, C, *S], Y [N, C, 1, ..., 1], Y[n, c] = mean over S of X[n, c].
 *
 *   dX = Expand(dY, Shape(X)) / prod(S)
 */
import { DataType } from '../../ir/dtype.js';
import type { Value } from '../../ir/value.js';
import type { GradContext, GradientRule } from '../types.js';
import { spatialShapeOf } from '../windows.js';

export const globalAveragePoolGrad: GradientRule = {
  opTypes: ['GlobalAveragePool'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null];
    const x = ctx.x(0);
    const spread = ctx.b.op('Expand', [ctx.dy(0)!, ctx.shapeOf(x)]);
    return [ctx.b.mul(spread, inverseArea(ctx, x))];
  },
};

/** 1 / prod(S), a constant when the spatial sizes are static. */
function inverseArea(ctx: GradContext, x: Value): Value {
  const s = ctx.shape(x);
  if (s && s.length >= 2 && s.slice(2).every((d) => typeof d === 'number')) {
    return ctx.b.scalar(1 / (s.slice(2) as number[]).reduce((a, n) => a * n, 1));
  }
  const area = ctx.b.op('Cast', [ctx.b.op('ReduceProd', [spatialShapeOf(ctx, x)], { keepdims: 0 })], { to: DataType.FLOAT });
  return ctx.b.op('Reciprocal', [area]);
}
