import { pointwiseGrad, square } from '../pointwise.js';
/** dy / sqrt(radicand): the inverse functions' common shape. */
const overRoot = (b, dy, radicand) => b.div(dy, b.op('Sqrt', [radicand]));
const SLOPES = {
    Sin: ({ b, x, dy }) => b.mul(dy, b.op('Cos', [x])),
    Cos: ({ b, x, dy }) => b.neg(b.mul(dy, b.op('Sin', [x]))),
    Tan: ({ b, y, dy }) => b.mul(dy, b.add(b.scalar(1), square(b, y))),
    Atan: ({ b, x, dy }) => b.div(dy, b.add(b.scalar(1), square(b, x))),
    Asin: ({ b, x, dy }) => overRoot(b, dy, b.sub(b.scalar(1), square(b, x))),
    Acos: ({ b, x, dy }) => b.neg(overRoot(b, dy, b.sub(b.scalar(1), square(b, x)))),
    Sinh: ({ b, x, dy }) => b.mul(dy, b.op('Cosh', [x])),
    Cosh: ({ b, x, dy }) => b.mul(dy, b.op('Sinh', [x])),
    Asinh: ({ b, x, dy }) => overRoot(b, dy, b.add(square(b, x), b.scalar(1))),
    Acosh: ({ b, x, dy }) => overRoot(b, dy, b.sub(square(b, x), b.scalar(1))),
    Atanh: ({ b, x, dy }) => b.div(dy, b.sub(b.scalar(1), square(b, x))),
};
export const trigonometryGrad = {
    opTypes: Object.keys(SLOPES),
    grad: (ctx) => pointwiseGrad(SLOPES, ctx),
};
