import type { Value } from '../../ir/value.js';
import type { GradContext, GradientRule } from '../types.js';
import { axesOf, normalizeAxis } from '../axes.js';
import { requireRank, unsqueeze } from '../shapes.js';

/**
 * ReduceSumSquare: y = sum over axes of x^2     dx = 2 x dy'
 * ReduceL1:        y = sum over axes of |x|     dx = sign(x) dy'
 * dy' is dy with the reduced axes restored as size-1 dims; the Mul broadcasts it to x's shape, so no Expand is
 * needed. These are what the L2 and L1 penalties emit: one full-size Mul per weight in the backward pass.
 * Axes are an attribute before opset 18 and an optional input from 18.
 */
function restoredDy(ctx: GradContext): Value {
  const dy = ctx.dy(0)!;
  if (ctx.attrs.int('keepdims', 1) !== 0) return dy;
  const x = ctx.x(0);
  const axes = ctx.opset >= 18 ? axesOf(ctx, 1) : ctx.attrs.has('axes') ? ctx.attrs.ints('axes') : undefined;
  // Reducing every axis leaves a scalar, which broadcasts as it is.
  if (!axes || axes.length === 0) return dy;
  const rank = requireRank(ctx, x);
  return unsqueeze(ctx, dy, axes.map((a) => normalizeAxis(ctx, a, rank)).sort((p, q) => p - q));
}

export const reduceNormGrad: GradientRule = {
  opTypes: ['ReduceSumSquare', 'ReduceL1'],
  grad(ctx) {
    const rest = ctx.node.inputs.slice(1).map(() => null);
    if (!ctx.needs(0)) return [null, ...rest];
    const { b } = ctx;
    const x = ctx.x(0);
    const dy = restoredDy(ctx);
    if (ctx.node.opType === 'ReduceL1') return [b.mul(b.op('Sign', [x]), dy), ...rest];
    return [b.mul(x, b.mul(dy, b.scalar(2))), ...rest];
  },
};
