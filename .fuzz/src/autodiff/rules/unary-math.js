/**
 * One-input math functions, elementwise (x the input, y the forward output, reused where it saves work):
 *
 *   Neg:        y = -x              dx = -dy
 *   Abs:        y = |x|             dx = dy sign(x)           (0 at x = 0, the subgradient PyTorch uses)
 *   Reciprocal: y = 1 / x           dx = -dy y^2
 *   Exp:        y = e^x             dx = dy y
 *   Log:        y = ln x            dx = dy / x
 *   Sqrt:       y = sqrt x          dx = dy 0.5 / y           (= dy / (2 y))
 *   Erf:        y = erf x           dx = dy (2 / sqrt(pi)) e^(-x^2)
 *   Softplus:   y = ln(1 + e^x)     dx = dy sigmoid(x)
 *
 * Abs and Softplus are what the L1 penalty, the L1 loss and binary cross-entropy on logits emit.
 */
import { pointwiseGrad, square } from '../pointwise.js';
const SLOPES = {
    Neg: ({ b, dy }) => b.neg(dy),
    Abs: ({ b, x, dy }) => b.mul(dy, b.op('Sign', [x])),
    Reciprocal: ({ b, y, dy }) => b.neg(b.mul(dy, square(b, y))),
    Exp: ({ b, y, dy }) => b.mul(dy, y),
    Log: ({ b, x, dy }) => b.div(dy, x),
    Sqrt: ({ b, y, dy }) => b.div(b.mul(dy, b.scalar(0.5)), y),
    Erf: ({ b, x, dy }) => b.mul(dy, b.mul(b.op('Exp', [b.neg(square(b, x))]), b.scalar(2 / Math.sqrt(Math.PI)))),
    Softplus: ({ b, x, dy }) => b.mul(dy, b.op('Sigmoid', [x])),
};
export const unaryMathGrad = {
    opTypes: Object.keys(SLOPES),
    grad: (ctx) => pointwiseGrad(SLOPES, ctx),
};
