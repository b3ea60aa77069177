/**
 * More trigonometric and hyperbolic functions, elementwise (x the input):
 *
 *   Atan:  dx = dy / (1 + x^2)        Sinh:  dx = dy cosh x
 *   Asin:  dx = dy / sqrt(1 - x^2)    Cosh:  dx = dy sinh x
 *   Acos:  dx = -dy / sqrt(1 - x^2)   Asinh: dx = dy / sqrt(x^2 + 1)
 *   Atanh: dx = dy / (1 - x^2)        Acosh: dx = dy / sqrt(x^2 - 1)
 *   Tan:   dx = dy (1 + y^2)          (y = tan x, the forward output: no cosine needed)
 */
import type { GraphBuilder } from '../../ir/builder.js';
import type { Value } from '../../ir/value.js';
import type { GradientRule } from '../types.js';

type Slope = (b: GraphBuilder, x: Value, dy: Value, y: Value) => Value;

const square = (b: GraphBuilder, v: Value) => b.mul(v, v);
/** dy / sqrt(radicand): the inverse functions' common shape. */
const overRoot = (b: GraphBuilder, dy: Value, radicand: Value) => b.div(dy, b.op('Sqrt', [radicand]));

const SLOPES: Record<string, Slope> = {
  Atan: (b, x, dy) => b.div(dy, b.add(b.scalar(1), square(b, x))),
  Asin: (b, x, dy) => overRoot(b, dy, b.sub(b.scalar(1), square(b, x))),
  Acos: (b, x, dy) => b.neg(overRoot(b, dy, b.sub(b.scalar(1), square(b, x)))),
  Sinh: (b, x, dy) => b.mul(dy, b.op('Cosh', [x])),
  Cosh: (b, x, dy) => b.mul(dy, b.op('Sinh', [x])),
  Asinh: (b, x, dy) => overRoot(b, dy, b.add(square(b, x), b.scalar(1))),
  Acosh: (b, x, dy) => overRoot(b, dy, b.sub(square(b, x), b.scalar(1))),
  Atanh: (b, x, dy) => b.div(dy, b.sub(b.scalar(1), square(b, x))),
  Tan: (b, _x, dy, y) => b.mul(dy, b.add(b.scalar(1), square(b, y))),
};

export const trigMoreGrad: GradientRule = {
  opTypes: Object.keys(SLOPES),
  grad: (ctx) => [ctx.needs(0) ? SLOPES[ctx.node.opType](ctx.b, ctx.x(0), ctx.dy(0)!, ctx.y(0)) : null],
};
