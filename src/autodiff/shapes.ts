import { RegraftError } from '../errors.js';
import type { Value } from '../ir/value.js';
import type { GradContext } from './types.js';

/**
 * Small graph idioms the gradient rules share. Each prefers static shapes (a constant, no Shape node) and falls
 * back to run-time shapes when a dimension is symbolic, so models with a batch dim `N` still differentiate.
 */

/** The shape of `v` when every dimension is a known number. */
export function staticDims(ctx: GradContext, v: Value): number[] | undefined {
  const s = ctx.shape(v);
  if (!s || s.some((d) => typeof d !== 'number')) return undefined;
  return s as number[];
}

/** A 1-D int64 value holding `v`'s shape: a shared constant when static, `Shape(v)` otherwise. */
export function shapeValue(ctx: GradContext, v: Value): Value {
  const dims = staticDims(ctx, v);
  return dims ? ctx.b.ints(dims, 'shape') : ctx.shapeOf(v);
}

/** `g` reshaped to `like`'s shape (the gradient of every pure reshaping op). */
export function reshapeLike(ctx: GradContext, g: Value, like: Value): Value {
  // A Reshape of a Reshape is one Reshape (same elements, same order): read the inner one's input instead.
  const inner = g.producer?.opType === 'Reshape' ? g.producer.inputs[0] : null;
  return ctx.b.op('Reshape', [inner ?? g, shapeValue(ctx, like)]);
}

/**
 * Float `value` broadcast to `shape` (a 1-D int64 value): Expand of a scalar rather than ConstantOfShape, whose
 * schemas from opset 20 on have no kernel in onnxruntime's CUDA provider (it registers ConstantOfShape-9 only).
 */
export function filled(ctx: GradContext, shape: Value, value = 0): Value {
  return ctx.b.op('Expand', [ctx.b.scalar(value), shape]);
}

/** Float zeros shaped like `v` (a gradient slot no output contributes to). */
export function zerosLike(ctx: GradContext, v: Value): Value {
  return filled(ctx, shapeValue(ctx, v));
}

/** Unsqueeze in the form the opset wants (GraphBuilder.unsqueeze). */
export function unsqueeze(ctx: GradContext, x: Value, axes: readonly number[]): Value {
  return ctx.b.unsqueeze(x, axes);
}

/** Slice's "to the end" bound (any end at or past the axis length clamps to it). */
export const TO_END = Number.MAX_SAFE_INTEGER;

/** x[starts:ends] along `axes`, in the form the opset wants (inputs from opset 10, attributes before). */
export function sliceAxes(ctx: GradContext, x: Value, starts: readonly number[], ends: readonly number[], axes: readonly number[]): Value {
  const { b } = ctx;
  if (ctx.opset < 10) return b.op('Slice', [x], { starts: [...starts], ends: [...ends], axes: [...axes] });
  return b.op('Slice', [x, b.ints(starts, 'starts'), b.ints(ends, 'ends'), b.ints(axes, 'axes')]);
}

/** x zero-padded by `pads` ([begin of every axis..., end of every axis...]), in the opset's form (input from 11). */
export function padZeros(ctx: GradContext, x: Value, pads: readonly number[]): Value {
  const { b } = ctx;
  if (ctx.opset < 11) return b.op('Pad', [x], { pads: [...pads] });
  return b.op('Pad', [x, b.ints(pads, 'pads')]);
}

/** Squeeze in the form the opset wants (GraphBuilder.squeeze). */
export function squeeze(ctx: GradContext, x: Value, axes: readonly number[]): Value {
  return ctx.b.squeeze(x, axes);
}

/** The static rank of `v`, or an error naming the node and value. */
export function requireRank(ctx: GradContext, v: Value): number {
  const r = ctx.rank(v);
  if (r === undefined) {
    throw new RegraftError(`${ctx.node.describe()}: the rank of '${v.name}' is unknown, so its gradient cannot be built; ${ctx.lostTrack(v, 'rank')}`);
  }
  return r;
}

/** Swaps the last two axes (matrix transpose of a batch of matrices). */
export function transposeLastTwo(ctx: GradContext, v: Value, r: number): Value {
  const perm = Array.from({ length: r }, (_, i) => i);
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return ctx.b.op('Transpose', [v], { perm });
}
