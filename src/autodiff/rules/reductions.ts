/**
 * The ten Reduce* ops. dy' and y' are dy and y with the reduced axes put back as size-1 dims (Unsqueeze, or a
 * Reshape for a full reduction, when keepdims = 0), so they broadcast against x:
 *
 *   ReduceSum:       y = sum_axes x              dx = Expand(dy', shape(x))
 *   ReduceMean:      y = mean_axes x             dx = Expand(dy', shape(x)) / (numel(x) / numel(y))
 *   ReduceSumSquare: y = sum_axes x^2            dx = 2 x dy'
 *   ReduceL1:        y = sum_axes |x|            dx = sign(x) dy'
 *   ReduceL2:        y = sqrt(sum_axes x^2)      dx = dy' x / y'            (0 where y' = 0: x is all zeros there)
 *   ReduceLogSum:    y = log(sum_axes x)         dx = Expand(dy' / exp(y'), shape(x))
 *   ReduceProd:      y = prod_axes x             dx_i = dy' prod_{j != i} x_j
 *   ReduceLogSumExp: y = log sum_axes exp(x)     dx = dy' exp(x - y')       (the softmax of x over the axes)
 *   ReduceMax/Min:   y = max/min_axes x          dx = dy at the first extreme of each group, 0 elsewhere
 *                                                (../extremes.ts: one position per group, so ties are not counted twice)
 *
 * Axes are an attribute before opset 18 (13 for ReduceSum) and an optional input after. No axes means all axes,
 * unless noop_with_empty_axes = 1. Then the spec text calls the output the input itself, but onnxruntime reduces
 * over no axis, i.e. applies the per-element function (ReduceL2 -> |x|, ReduceLogSum -> log x, ReduceProd -> x).
 * We train through onnxruntime, so the rules differentiate that: the same formulas with nothing restored (dx =
 * dy x / |x|, dy / x, dy); for ReduceSum, ReduceMean, ReduceLogSumExp and ReduceMax/Min it is the identity.
 *
 * ReduceProd's product of the others is exact with zeros in the slice: with P = product of the slice's NONZERO
 * entries and z_others = the number of zeros among the other entries, prod_{j != i} x_j = P / x_i (x_i != 0) or P
 * (x_i = 0) when z_others = 0, and 0 otherwise. So dx = dy' * Where(z_others == 0, P / Where(x == 0, 1, x), 0),
 * two extra reductions and no division by zero. ReduceL2 is what F.normalize and torch.norm export; its zero guard
 * only touches the reduced-size tensor. ReduceSumSquare and ReduceL1 are what the L2 and L1 penalties emit: one
 * full-size Mul per weight in the backward pass (their dy' is an Unsqueeze even for a full reduction, and a scalar
 * dy broadcasts as it is).
 */
import { DataType } from '../../ir/dtype.js';
import { numel } from '../../ir/tensor.js';
import type { Value } from '../../ir/value.js';
import { listedAxes, normalizeAxis, reduceKeep, reducedAxes, restoreReduced, sortedAxes } from '../axes.js';
import { routeToExtreme } from '../extremes.js';
import { requireRank, shapeValue, staticDims, unsqueeze } from '../shapes.js';
import type { GradContext, GradientRule } from '../types.js';

export const reduceSumMeanGrad: GradientRule = {
  opTypes: ['ReduceSum', 'ReduceMean'],
  grad(ctx) {
    const rest = ctx.node.inputs.slice(1).map(() => null);
    if (!ctx.needs(0)) return [null, ...rest];
    const axes = sumMeanAxes(ctx);
    if (axes === 'none') return [ctx.dy(0), ...rest];
    const g = spread(ctx, ctx.dy(0)!, axes);
    return [ctx.node.opType === 'ReduceMean' ? ctx.b.mul(g, meanScale(ctx)) : g, ...rest];
  },
};

/** The listed axes, 'all' when none are listed, 'none' when noop_with_empty_axes makes the op the identity. */
function sumMeanAxes(ctx: GradContext): number[] | 'none' | 'all' {
  const axes = listedAxes(ctx, ctx.node.opType === 'ReduceSum' ? 13 : 18);
  if (axes && axes.length > 0) return axes;
  return ctx.attrs.int('noop_with_empty_axes', 0) !== 0 ? 'none' : 'all';
}

/** Expand(dy', shape(x)). */
function spread(ctx: GradContext, dy: Value, axes: number[] | 'all'): Value {
  const x = ctx.x(0);
  let g = dy;
  if (ctx.attrs.int('keepdims', 1) === 0) {
    const rank = requireRank(ctx, x);
    g = restoreReduced(ctx, g, axes === 'all' ? Array.from({ length: rank }, (_, i) => i) : sortedAxes(ctx, axes, rank));
  }
  return ctx.b.op('Expand', [g, shapeValue(ctx, x)]);
}

/** numel(y) / numel(x) as a float: a constant when both shapes are static. */
function meanScale(ctx: GradContext): Value {
  const { b } = ctx;
  const sx = staticDims(ctx, ctx.x(0));
  const sy = staticDims(ctx, ctx.y(0));
  if (sx && sy) return b.scalar(numel(sy) / numel(sx));
  return b.div(b.elementCount(ctx.y(0), ctx.shapeOf), b.elementCount(ctx.x(0), ctx.shapeOf));
}

export const reduceSumSquareL1Grad: GradientRule = {
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

/** dy with the reduced axes restored as size-1 dims by Unsqueeze (a full reduction's scalar dy is left as it is). */
function restoredDy(ctx: GradContext): Value {
  const dy = ctx.dy(0)!;
  if (ctx.attrs.int('keepdims', 1) !== 0) return dy;
  const x = ctx.x(0);
  const axes = listedAxes(ctx);
  // Reducing every axis leaves a scalar, which broadcasts as it is.
  if (!axes || axes.length === 0) return dy;
  const rank = requireRank(ctx, x);
  return unsqueeze(ctx, dy, sortedAxes(ctx, axes, rank));
}

export const reduceL2LogSumProdGrad: GradientRule = {
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

export const reduceLogSumExpGrad: GradientRule = {
  opTypes: ['ReduceLogSumExp'],
  grad(ctx) {
    const rest = ctx.node.inputs.slice(1).map(() => null);
    if (!ctx.needs(0)) return [null, ...rest];
    const axes = reducedAxes(ctx);
    if (axes === 'identity') return [ctx.dy(0), ...rest];
    const { b } = ctx;
    const softmax = b.op('Exp', [b.sub(ctx.x(0), restoreReduced(ctx, ctx.y(0), axes))]);
    return [b.mul(restoreReduced(ctx, ctx.dy(0)!, axes), softmax), ...rest];
  },
};

export const reduceMaxMinGrad: GradientRule = {
  opTypes: ['ReduceMax', 'ReduceMin'],
  grad(ctx) {
    const rest = ctx.node.inputs.slice(1).map(() => null);
    if (!ctx.needs(0)) return [null, ...rest];
    const rank = requireRank(ctx, ctx.x(0));
    const given = listedAxes(ctx);
    if ((!given || given.length === 0) && ctx.attrs.int('noop_with_empty_axes', 0) !== 0) return [ctx.dy(0), ...rest];
    const axes = given && given.length > 0 ? [...new Set(given.map((a) => normalizeAxis(ctx, a, rank)))] : Array.from({ length: rank }, (_, i) => i);
    return [routeToExtreme(ctx, axes, rank, ctx.node.opType === 'ReduceMin' ? 'ArgMin' : 'ArgMax'), ...rest];
  },
};
