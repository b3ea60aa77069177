import type { GradientRule } from '../types.js';

/**
 * More activations (ONNX attribute defaults):
 *   Celu (alpha 1):            y = max(0, x) + min(0, alpha (e^(x/alpha) - 1))   dx = dy where x > 0, else dy * e^(x/alpha)
 *                              (on the negative side e^(x/alpha) = y / alpha + 1, read off the forward output)
 *   ThresholdedRelu (alpha 1): y = x where x > alpha, else 0                       dx = dy where x > alpha, else 0
 *   Mish:                      y = x tanh(softplus(x))
 *                              dx = dy * (t + x sigmoid(x) (1 - t^2)),  t = tanh(softplus(x)) = y / x, recomputed
 *                              (dividing by x is unsafe at 0)
 */
export const celuGrad: GradientRule = {
  opTypes: ['Celu'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null];
    const { b } = ctx;
    const dy = ctx.dy(0)!;
    const alpha = ctx.attrs.float('alpha', 1);
    const negativeSlope = b.add(b.mul(ctx.y(0), b.scalar(1 / alpha)), b.scalar(1));
    return [b.op('Where', [b.op('Greater', [ctx.x(0), b.scalar(0)]), dy, b.mul(dy, negativeSlope)])];
  },
};

export const thresholdedReluGrad: GradientRule = {
  opTypes: ['ThresholdedRelu'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null];
    const { b } = ctx;
    const above = b.op('Greater', [ctx.x(0), b.scalar(ctx.attrs.float('alpha', 1))]);
    return [b.op('Where', [above, ctx.dy(0)!, b.scalar(0)])];
  },
};

export const mishGrad: GradientRule = {
  opTypes: ['Mish'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null];
    const { b } = ctx;
    const x = ctx.x(0);
    const t = b.op('Tanh', [b.op('Softplus', [x])]);
    const oneMinusT2 = b.sub(b.scalar(1), b.mul(t, t));
    const slope = b.add(t, b.mul(b.mul(x, b.op('Sigmoid', [x])), oneMinusT2));
    return [b.mul(ctx.dy(0)!, slope)];
  },
};
