/**
 * Activations, elementwise (x the input, y the forward output, read where it is enough; ONNX attribute defaults):
 *
 *   Relu:            y = max(x, 0)                          dx = dy where y > 0, else 0
 *   LeakyRelu:       y = x (x > 0), alpha x                 dx = dy where x > 0, else alpha dy
 *   Sigmoid:         y = 1 / (1 + e^-x)                     dx = dy y (1 - y)
 *   Tanh:            y = tanh x                             dx = dy (1 - y^2)
 *   Elu:             y = x (x > 0), alpha (e^x - 1)         dx = dy where x > 0, else dy (y + alpha)
 *   Selu:            y = gamma x (x > 0),                   dx = gamma dy where x > 0, else dy (y + gamma alpha)
 *                        gamma alpha (e^x - 1)              (d/dx alpha (e^x - 1) = alpha e^x = y + alpha)
 *   Celu (alpha 1):  y = max(0, x) + min(0, alpha (e^(x/alpha) - 1))
 *                                                           dx = dy where x > 0, else dy e^(x/alpha)
 *                                                           (on the negative side e^(x/alpha) = y / alpha + 1)
 *   ThresholdedRelu: y = x where x > alpha (1), else 0      dx = dy where x > alpha, else 0
 *   Mish:            y = x tanh(softplus(x))                dx = dy (t + x sigmoid(x) (1 - t^2)),  t = tanh(softplus(x))
 *                                                           recomputed (t = y / x is unsafe at 0)
 *   HardSigmoid:     y = clamp(alpha x + beta, 0, 1)        dx = alpha dy where 0 < y < 1, else 0
 *   HardSwish:       y = x clamp(x / 6 + 1/2, 0, 1)         dx = dy (0 for x < -3; 1 for x > 3; x / 3 + 1/2 between)
 *   Softsign:        y = x / (1 + |x|)                      dx = dy / (1 + |x|)^2
 *   Gelu (opset 20), approximate = 'none':
 *                    y = x Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2, phi(x) = e^(-x^2 / 2) / sqrt(2 pi)
 *                                                           dx = dy (Phi(x) + x phi(x))
 *   Gelu, approximate = 'tanh':
 *                    y = x (1 + t) / 2, t = tanh(u), u = sqrt(2 / pi) (x + 0.044715 x^3)
 *                                                           dx = dy ((1 + t) / 2 + x (1 - t^2) sqrt(2 / pi) (1 + 3 * 0.044715 x^2) / 2)
 *   PRelu:           y = x where x > 0, else slope x        dx = dy where x > 0, else slope dy
 *                    (slope broadcasts to x, e.g. [C, 1, 1]) dslope = unbroadcast(dy x where x <= 0, else 0)
 *
 * At the kinks: Relu and ThresholdedRelu take the subgradient 0, PRelu the negative side (as PyTorch does), the
 * hard functions their inner piece (as PyTorch's hardswish_backward). HardSigmoid's linear piece is read off y
 * (0 < y < 1 exactly where 0 < alpha x + beta < 1); HardSwish's slope needs x.
 */
import { RegraftError } from '../../errors.js';
import { pointwiseGrad } from '../pointwise.js';
const SELU_ALPHA = 1.67326319217681884765625;
const SELU_GAMMA = 1.05070102214813232421875;
const GELU_CUBIC = 0.044715;
const SLOPES = {
    Relu: ({ b, y, dy }) => b.op('Where', [b.op('Greater', [y, b.scalar(0)]), dy, b.scalar(0)]),
    LeakyRelu: ({ b, x, dy, attrs }) => b.op('Where', [b.op('Greater', [x, b.scalar(0)]), dy, b.mul(dy, b.scalar(attrs.float('alpha', 0.01)))]),
    Sigmoid: ({ b, y, dy }) => b.mul(dy, b.mul(y, b.sub(b.scalar(1), y))),
    Tanh: ({ b, y, dy }) => b.mul(dy, b.sub(b.scalar(1), b.mul(y, y))),
    Elu: ({ b, x, y, dy, attrs }) => {
        const alpha = attrs.float('alpha', 1);
        const positive = b.op('Greater', [x, b.scalar(0)]);
        return b.op('Where', [positive, dy, b.mul(dy, b.add(y, b.scalar(alpha)))]);
    },
    Selu: ({ b, x, y, dy, attrs }) => {
        const alpha = attrs.float('alpha', SELU_ALPHA);
        const gamma = attrs.float('gamma', SELU_GAMMA);
        const positive = b.op('Greater', [x, b.scalar(0)]);
        const negativeSlope = b.add(y, b.scalar(gamma * alpha));
        return b.op('Where', [positive, b.mul(dy, b.scalar(gamma)), b.mul(dy, negativeSlope)]);
    },
    Celu: ({ b, x, y, dy, attrs }) => {
        const negativeSlope = b.add(b.mul(y, b.scalar(1 / attrs.float('alpha', 1))), b.scalar(1));
        return b.op('Where', [b.op('Greater', [x, b.scalar(0)]), dy, b.mul(dy, negativeSlope)]);
    },
    ThresholdedRelu: ({ b, x, dy, attrs }) => b.op('Where', [b.op('Greater', [x, b.scalar(attrs.float('alpha', 1))]), dy, b.scalar(0)]),
    Mish: ({ b, x, dy }) => {
        const t = b.op('Tanh', [b.op('Softplus', [x])]);
        const oneMinusT2 = b.sub(b.scalar(1), b.mul(t, t));
        return b.mul(dy, b.add(t, b.mul(b.mul(x, b.op('Sigmoid', [x])), oneMinusT2)));
    },
    HardSigmoid: ({ b, y, dy, attrs }) => {
        const alpha = attrs.float('alpha', 0.2);
        const linear = b.op('And', [b.op('Greater', [y, b.scalar(0)]), b.op('Less', [y, b.scalar(1)])]);
        return b.op('Where', [linear, b.mul(dy, b.scalar(alpha)), b.scalar(0)]);
    },
    HardSwish: ({ b, x, dy }) => {
        const inner = b.add(b.mul(x, b.scalar(1 / 3)), b.scalar(0.5));
        const upper = b.op('Where', [b.op('Greater', [x, b.scalar(3)]), b.scalar(1), inner]);
        return b.mul(dy, b.op('Where', [b.op('Less', [x, b.scalar(-3)]), b.scalar(0), upper]));
    },
    Softsign: ({ b, x, dy }) => {
        const denom = b.add(b.scalar(1), b.op('Abs', [x]));
        return b.div(dy, b.mul(denom, denom));
    },
    Gelu: geluSlope,
};
function geluSlope({ b, x, dy, attrs, ctx }) {
    const approximate = attrs.string('approximate', 'none');
    const half = b.scalar(0.5);
    const one = b.scalar(1);
    const x2 = b.mul(x, x);
    if (approximate === 'none') {
        const cdf = b.mul(half, b.add(one, b.op('Erf', [b.mul(x, b.scalar(Math.SQRT1_2))])));
        const pdf = b.mul(b.op('Exp', [b.mul(x2, b.scalar(-0.5))]), b.scalar(1 / Math.sqrt(2 * Math.PI)));
        return b.mul(dy, b.add(cdf, b.mul(x, pdf)));
    }
    if (approximate === 'tanh') {
        const k = Math.sqrt(2 / Math.PI);
        const u = b.mul(b.scalar(k), b.add(x, b.mul(b.scalar(GELU_CUBIC), b.mul(x2, x))));
        const t = b.op('Tanh', [u]);
        const du = b.add(b.scalar(k), b.mul(b.scalar(3 * GELU_CUBIC * k), x2));
        const outer = b.mul(half, b.add(one, t));
        const inner = b.mul(b.mul(half, x), b.mul(b.sub(one, b.mul(t, t)), du));
        return b.mul(dy, b.add(outer, inner));
    }
    throw new RegraftError(`${ctx.node.describe()}: approximate='${approximate}' is not a Gelu mode; use 'none' or 'tanh'`);
}
export const activationsGrad = {
    opTypes: Object.keys(SLOPES),
    grad: (ctx) => pointwiseGrad(SLOPES, ctx),
};
/** PRelu has a second, trainable input (the slope), so it is not a table entry. */
export const preluGrad = {
    opTypes: ['PRelu'],
    grad(ctx) {
        const { b } = ctx;
        const dy = ctx.dy(0);
        const x = ctx.x(0);
        const positive = b.op('Greater', [x, b.scalar(0)]);
        const dx = ctx.needs(0) ? b.op('Where', [positive, dy, b.mul(dy, ctx.x(1))]) : null;
        const dslope = ctx.needs(1) ? ctx.unbroadcast(b.op('Where', [positive, b.scalar(0), b.mul(dy, x)]), 1) : null;
        return [dx, dslope];
    },
};
