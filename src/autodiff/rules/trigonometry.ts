/**
 * Trigonometric and hyperbolic functions, elementwise (x the input; positional encodings and rotary embeddings in
 * exported transformers):
 *
 *   Sin:   dx = dy cos x                 Sinh:  dx = dy cosh x
 *   Cos:   dx = -dy sin x                Cosh:  dx = dy sinh x
 *   Tan:   dx = dy (1 + y^2)             (y = tan x, the forward output: no cosine needed)
 *   Atan:  dx = dy / (1 + x^2)           Asinh: dx = dy / sqrt(x^2 + 1)
 *   Asin:  dx = dy / sqrt(1 - x^2)       Acosh: dx = dy / sqrt(x^2 - 1)
 *   Acos:  dx = -dy / sqrt(1 - x^2)      Atanh: dx = dy / (1 - x^2)
 */
import type { GraphBuilder } from '../../ir/builder.js';
import type { Value } from '../../ir/value.js';
import { pointwiseGrad, square, type Slope } from '../pointwise.js';
import type { GradientRule } from '../types.js';

/** dy / sqrt(radicand): the inverse functions' common shape. */
const overRoot = (b: GraphBuilder, dy: Value, radicand: Value) => b.div(dy, b.op('Sqrt', [radicand]));

const SLOPES: Record<string, Slope> = {
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

export const trigonometryGrad: GradientRule = {
  opTypes: Object.keys(SLOPES),
  grad: (ctx) => pointwiseGrad(SLOPES, ctx),
};
