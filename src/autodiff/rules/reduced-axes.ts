/**
 * The reduced axes of a Reduce* node, read the way the opset wants (an attribute before opset 18, an optional
 * input from 18; ReduceSum moved at 13 and has its own rule), and the restoring of a reduced value to the input's
 * rank so it broadcasts against X. Shared by the reduction rules that need Y or dY next to X.
 */
import type { Value } from '../../ir/value.js';
import type { GradContext } from '../types.js';
import { axesOf, normalizeAxis, requireRank, unsqueeze } from './shape-helpers.js';

/** Sorted non-negative reduced axes, or 'identity' when noop_with_empty_axes makes the op the identity. */
export function reducedAxes(ctx: GradContext): number[] | 'identity' {
  const listed = ctx.opset >= 18 ? axesOf(ctx, 1) : ctx.attrs.has('axes') ? ctx.attrs.ints('axes') : undefined;
  const empty = !listed || listed.length === 0;
  if (empty && ctx.attrs.int('noop_with_empty_axes', 0) !== 0) return 'identity';
  const rank = requireRank(ctx, ctx.x(0));
  if (empty) return Array.from({ length: rank }, (_, i) => i);
  return listed.map((a) => normalizeAxis(ctx, a, rank)).sort((p, q) => p - q);
}

/** `v` (shaped like Y) with the reduced axes back as size-1 dims when keepdims = 0, so it broadcasts against X. */
export function restoreReduced(ctx: GradContext, v: Value, axes: readonly number[]): Value {
  if (ctx.attrs.int('keepdims', 1) !== 0) return v;
  // A full reduction may have a scalar result, which Unsqueeze would need every axis for: Reshape instead.
  if (axes.length === requireRank(ctx, ctx.x(0))) return ctx.b.op('Reshape', [v, ctx.b.ints(axes.map(() => 1), 'shape')]);
  return unsqueeze(ctx, v, axes);
}

/** A Reduce* op over `axes` with keepdims = 1, in the form the model's opset wants (axes input from 18). */
export function reduceKeep(ctx: GradContext, opType: string, x: Value, axes: readonly number[]): Value {
  if (opType === 'ReduceSum') return ctx.b.reduceSum(x, axes, true);
  if (ctx.opset >= 18) return ctx.b.op(opType, [x, ctx.b.ints(axes, 'axes')], { keepdims: 1 });
  return ctx.b.op(opType, [x], { axes: [...axes], keepdims: 1 });
}
