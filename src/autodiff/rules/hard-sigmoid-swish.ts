import type { GradientRule } from '../types.js';

/**
 * Piecewise-linear sigmoid and swish:
 *   HardSigmoid: y = clamp(alpha x + beta, 0, 1)            dx = alpha dy where 0 < y < 1, else 0
 *   HardSwish:   y = x clamp(x / 6 + 1/2, 0, 1)             dx = dy * (0 for x < -3; 1 for x > 3; x / 3 + 1/2 between)
 * HardSigmoid's linear piece is read off the forward output (0 < y < 1 exactly where 0 < alpha x + beta < 1);
 * HardSwish's slope needs x. At the kinks the inner piece is used, as PyTorch's hardswish_backward does.
 */
export const hardSigmoidGrad: GradientRule = {
  opTypes: ['HardSigmoid'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null];
    const { b } = ctx;
    const y = ctx.y(0);
    const alpha = ctx.attrs.float('alpha', 0.2);
    const linear = b.op('And', [b.op('Greater', [y, b.scalar(0)]), b.op('Less', [y, b.scalar(1)])]);
    return [b.op('Where', [linear, b.mul(ctx.dy(0)!, b.scalar(alpha)), b.scalar(0)])];
  },
};

export const hardSwishGrad: GradientRule = {
  opTypes: ['HardSwish'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null];
    const { b } = ctx;
    const x = ctx.x(0);
    const inner = b.add(b.mul(x, b.scalar(1 / 3)), b.scalar(0.5));
    const upper = b.op('Where', [b.op('Greater', [x, b.scalar(3)]), b.scalar(1), inner]);
    const slope = b.op('Where', [b.op('Less', [x, b.scalar(-3)]), b.scalar(0), upper]);
    return [b.mul(ctx.dy(0)!, slope)];
  },
};
