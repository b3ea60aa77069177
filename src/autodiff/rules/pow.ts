import { constantFloat } from '../../ir/constant.js';
import { DataType } from '../../ir/dtype.js';
import type { Value } from '../../ir/value.js';
import type { GradientRule } from '../types.js';

/**
 * z = a^p (broadcasting):
 *   da = unbroadcast(dz * p * a^(p-1))       (a constant p = 2 becomes dz * 2a: no Pow node)
 *   dp = unbroadcast(dz * z * ln a)          (defined for a > 0, as in PyTorch)
 * An integer exponent (Pow-12 allows it) is cast to float for the arithmetic and gets no gradient.
 */
export const powGrad: GradientRule = {
  opTypes: ['Pow'],
  grad(ctx) {
    const { b } = ctx;
    const dz = ctx.dy(0)!;
    const a = ctx.x(0);
    let p: Value = ctx.x(1);
    let da: Value | null = null;
    if (ctx.needs(0)) {
      const constant = constantFloat(p);
      if (constant === 2) {
        da = b.mul(dz, b.mul(a, b.scalar(2)));
      } else {
        if (p.elemType !== undefined && p.elemType !== DataType.FLOAT) p = b.op('Cast', [p], { to: DataType.FLOAT });
        const slope = b.mul(p, b.op('Pow', [a, b.sub(p, b.scalar(1))]));
        da = b.mul(dz, slope);
      }
      da = ctx.unbroadcast(da, 0);
    }
    const dp = ctx.needs(1) ? ctx.unbroadcast(b.mul(dz, b.mul(ctx.y(0), b.op('Log', [a]))), 1) : null;
    return [da, dp];
  },
};
