import { RegraftError } from '../../errors.js';
import type { GradientRule } from '../types.js';

/**
 * Erf:  y = erf x                  dx = dy * (2 / sqrt(pi)) * exp(-x^2)
 * Gelu (opset 20), approximate = 'none':
 *       y = x Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2, phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
 *       dx = dy * (Phi(x) + x phi(x))
 * Gelu, approximate = 'tanh':
 *       y = x (1 + t) / 2, t = tanh(u), u = sqrt(2 / pi) (x + 0.044715 x^3)
 *       dx = dy * ((1 + t) / 2 + x (1 - t^2) sqrt(2 / pi) (1 + 3 * 0.044715 x^2) / 2)
 */
export const erfGrad: GradientRule = {
  opTypes: ['Erf'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null];
    const { b } = ctx;
    const x = ctx.x(0);
    const gauss = b.op('Exp', [b.neg(b.mul(x, x))]);
    return [b.mul(ctx.dy(0)!, b.mul(gauss, b.scalar(2 / Math.sqrt(Math.PI))))];
  },
};

const GELU_CUBIC = 0.044715;

export const geluGrad: GradientRule = {
  opTypes: ['Gelu'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null];
    const { b } = ctx;
    const x = ctx.x(0);
    const dy = ctx.dy(0)!;
    const approximate = ctx.attrs.string('approximate', 'none');
    const half = b.scalar(0.5);
    const one = b.scalar(1);
    const x2 = b.mul(x, x);
    if (approximate === 'none') {
      const cdf = b.mul(half, b.add(one, b.op('Erf', [b.mul(x, b.scalar(Math.SQRT1_2))])));
      const pdf = b.mul(b.op('Exp', [b.mul(x2, b.scalar(-0.5))]), b.scalar(1 / Math.sqrt(2 * Math.PI)));
      return [b.mul(dy, b.add(cdf, b.mul(x, pdf)))];
    }
    if (approximate === 'tanh') {
      const k = Math.sqrt(2 / Math.PI);
      const u = b.mul(b.scalar(k), b.add(x, b.mul(b.scalar(GELU_CUBIC), b.mul(x2, x))));
      const t = b.op('Tanh', [u]);
      const du = b.add(b.scalar(k), b.mul(b.scalar(3 * GELU_CUBIC * k), x2));
      const outer = b.mul(half, b.add(one, t));
      const inner = b.mul(b.mul(half, x), b.mul(b.sub(one, b.mul(t, t)), du));
      return [b.mul(dy, b.add(outer, inner))];
    }
    throw new RegraftError(`${ctx.node.describe()}: approximate='${approximate}' is not a Gelu mode; use 'none' or 'tanh'`);
  },
};
