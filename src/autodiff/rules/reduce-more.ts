/**
 * ReduceL2:     y = sqrt(sum_axes x^2)   dx = dy' x / y'            (0 where y' = 0: x is all zeros there)
 * ReduceLogSum: y = log(sum_axes x)      dx = Expand(dy' / exp(y'), shape(x))
 * ReduceProd:   y = prod_axes x          dx_i = dy' prod_{j != i} x_j
 *
 * dy', y' are dy and y with the reduced axes back as size-1 dims. ReduceProd's product of the others is exact with
 * zeros in the slice: with P = product of the slice's NONZERO entries and z_others = the number of zeros among the
 * other entries, prod_{j != i} x_j = P / x_i (x_i != 0) or P (x_i = 0) when z_others = 0, and 0 otherwise. So
 * dx = dy' * Where(z_others == 0, P / Where(x == 0, 1, x), 0), two extra reductions and no division by zero.
 * ReduceL2 is what F.normalize and torch.norm export; the zero guard only touches the reduced-size tensor.
 *
 * Empty axes with noop_with_empty_axes = 1: the spec text calls the output the input itself, but onnxruntime
 * reduces over no axis, i.e. applies the per-element function (ReduceL2 -> |x|, ReduceLogSum -> log x,
 * ReduceProd -> x). We train through onnxruntime, so the rule differentiates that: the same formulas with
 * nothing restored (dx = dy x / |x|, dy / x, dy).
 */
import { DataType } from '../../ir/dtype.js';
import type { Value } from '../../ir/value.js';
import type { GradContext, GradientRule } from '../types.js';
import { reduceKeep, reducedAxes, restoreReduced } from '../axes.js';
import { shapeValue } from '../shapes.js';

function l2(ctx: GradContext, dy: Value, y: Value): Value {
  const { b } = ctx;
  const zero = b.op('Equal', [y, b.scalar(0)]);
  const safe = b.op('Where', [zero, b.scalar(1), y]);
  return b.mul(ctx.x(0), b.div(dy, safe));
}

function logSum(ctx: GradContext, dy: Value, y: Value): Value {
  const { b } = ctx;
  return b.op('Expand', [b.div(dy, b.op('Exp', [y])), shapeValue(ctx, ctx.x(0))]);
}

function prod(ctx: GradContext, dy: Value, axes: number[]): Value {
  const { b } = ctx;
  const x = ctx.x(0);
  const isZero = b.op('Equal', [x, b.scalar(0)]);
  const nonzero = b.op('Where', [isZero, b.scalar(1), x]);
  const product = reduceKeep(ctx, 'ReduceProd', nonzero, axes);
  const zeroCount = b.op('Cast', [isZero], { to: DataType.FLOAT });
  const othersZero = b.sub(reduceKeep(ctx, 'ReduceSum', zeroCount, axes), zeroCount);
  const ofOthers = b.op('Where', [b.op('Equal', [othersZero, b.scalar(0)]), b.div(product, nonzero), b.scalar(0)]);
  return b.mul(dy, ofOthers);
}

export const reduceMoreGrad: GradientRule = {
  opTypes: ['ReduceL2', 'ReduceLogSum', 'ReduceProd'],
  grad(ctx) {
    const rest = ctx.node.inputs.slice(1).map(() => null);
    if (!ctx.needs(0)) return [null, ...rest];
    const axes = reducedAxes(ctx);
    const op = ctx.node.opType;
    const elementwise = axes === 'identity';
    if (elementwise && op === 'ReduceProd') return [ctx.dy(0), ...rest];
    const dy = elementwise ? ctx.dy(0)! : restoreReduced(ctx, ctx.dy(0)!, axes);
    if (op === 'ReduceProd') return [prod(ctx, dy, axes as number[]), ...rest];
    const y = elementwise ? ctx.y(0) : restoreReduced(ctx, ctx.y(0), axes);
    return [op === 'ReduceL2' ? l2(ctx, dy, y) : logSum(ctx, dy, y), ...rest];
  },
};
