/*
 * Axes as gradient rules read and write them: a node's axes, which moved from attributes to inputs between opsets
 * (Reduce* at 18, ReduceSum and Unsqueeze at 13), made non-negative; the reduced axes of a Reduce* node and the
 * restoring of a reduced value to the input's rank so it broadcasts against X; and reductions over static axes in
 * the form the model's opset wants.
 */
import { RegraftError } from '../errors.js';
import type { Value } from '../ir/value.js';
import { requireRank, unsqueeze } from './shapes.js';
import type { GradContext } from './types.js';

/** A possibly negative axis made non-negative for a tensor of rank `rank`. */
export function normalizeAxis(ctx: GradContext, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new RegraftError(`${ctx.node.describe()}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/**
 * Integer axes given either as an attribute (older opsets) or as a constant input (newer opsets); undefined when
 * neither is present. An input that is computed at run time is an error: the rule needs the axes statically.
 */
export function axesOf(ctx: GradContext, inputIndex: number, attrName = 'axes'): number[] | undefined {
  if (ctx.attrs.has(attrName)) return ctx.attrs.ints(attrName);
  if (!ctx.hasInput(inputIndex)) return undefined;
  const v = ctx.x(inputIndex);
  const values = ctx.ints(v);
  if (!values) {
    throw new RegraftError(`${ctx.node.describe()}: input '${v.name}' (${attrName}) is computed at run time and the gradient needs it as a constant; ${ctx.lostTrack(v, 'contents')}`);
  }
  return values;
}

/**
 * The axes a Reduce* node lists, or undefined when it lists none: an input from opset `inputFrom` (18 for most
 * reductions; ReduceSum moved at 13), an attribute before.
 */
export function listedAxes(ctx: GradContext, inputFrom = 18): number[] | undefined {
  if (ctx.opset >= inputFrom) return axesOf(ctx, 1);
  return ctx.attrs.has('axes') ? ctx.attrs.ints('axes') : undefined;
}

/** `axes` made non-negative for rank `rank` and sorted (the order Unsqueeze wants). */
export function sortedAxes(ctx: GradContext, axes: readonly number[], rank: number): number[] {
  return axes.map((a) => normalizeAxis(ctx, a, rank)).sort((p, q) => p - q);
}

/** Sorted non-negative reduced axes, or 'identity' when noop_with_empty_axes makes the op the identity. */
export function reducedAxes(ctx: GradContext): number[] | 'identity' {
  const listed = listedAxes(ctx);
  const empty = !listed || listed.length === 0;
  if (empty && ctx.attrs.int('noop_with_empty_axes', 0) !== 0) return 'identity';
  const rank = requireRank(ctx, ctx.x(0));
  if (empty) return Array.from({ length: rank }, (_, i) => i);
  return sortedAxes(ctx, listed, rank);
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

/** ReduceMean over `axes`, keeping them as size-1 dims (the statistics of the normalization rules). */
export function reduceMean(ctx: GradContext, x: Value, axes: readonly number[]): Value {
  return reduceKeep(ctx, 'ReduceMean', x, axes);
}
