import { RegraftError } from '../errors.js';
import type { GraphBuilder } from '../ir/builder.js';
import type { Dim, Value } from '../ir/value.js';

export interface UnbroadcastArgs {
  b: GraphBuilder;
  /** The gradient, shaped like the broadcast result `resultShape`. */
  grad: Value;
  resultShape: Dim[] | undefined;
  /** The input the gradient is for, and its shape. */
  input: Value;
  inputShape: Dim[] | undefined;
  opset: number;
  shapeOf: (v: Value) => Value;
  /** For errors: the node being differentiated. */
  where: string;
  /** Where the shape analysis lost a value's rank and what to do (GradContext.lostTrack). */
  lostTrack?: (v: Value) => string;
}

/**
 * Undoes numpy broadcasting in the backward pass (tfjs's getReductionAxes): the gradient of an input that was
 * broadcast is the sum of the result's gradient over the axes the input was stretched along.
 *
 * With x: [3, 1] and result [N, 3, 4]: sum over axis 0 (absent from x, dropped) and axis 2 (size 1 in x, kept).
 * Decided from static shapes whenever possible, so the common cases cost at most two ReduceSum nodes and no Shape
 * node; when a dimension is unknown the axes are computed at run time (opset 13+, ReduceSum axes as an input).
 */
export function unbroadcast(a: UnbroadcastArgs): Value {
  const { b, grad, resultShape: ry, inputShape: rx } = a;
  if (!ry || !rx) {
    const unknown = !rx ? a.input : grad;
    const advice = a.lostTrack?.(unknown) ?? "declare the model's input shapes (value_info) and retry";
    throw new RegraftError(`${a.where}: the rank of '${unknown.name}' is unknown, so the gradient cannot undo broadcasting; ${advice}`);
  }
  const lead = ry.length - rx.length;
  if (lead < 0) throw new RegraftError(`${a.where}: input '${a.input.name}' has higher rank than the result`);
  const leadingAxes = Array.from({ length: lead }, (_, i) => i);
  const keptAxes: number[] = [];
  let dynamic = false;
  rx.forEach((dx, j) => {
    const dr = ry[j + lead];
    if (dx === dr && dx !== null) return; // same size (or same symbol): not broadcast
    if (dx === 1) {
      if (dr !== 1) keptAxes.push(j);
      return;
    }
    if (typeof dx === 'number' && typeof dr === 'number') {
      throw new RegraftError(`${a.where}: shapes ${JSON.stringify(rx)} and ${JSON.stringify(ry)} do not broadcast`);
    }
    if (typeof dx === 'number') return; // a fixed size > 1 is never stretched
    dynamic = true; // symbolic or unknown input dim that may be 1 at run time
  });

  let g = grad;
  if (leadingAxes.length > 0) g = b.reduceSum(g, leadingAxes, false);
  if (dynamic) return dynamicReduce(a, g);
  if (keptAxes.length > 0) g = b.reduceSum(g, keptAxes, true);
  return g;
}

/** Sums over the axes where the input's run-time size is 1 and the gradient's is not. */
function dynamicReduce(a: UnbroadcastArgs, g: Value): Value {
  const { b } = a;
  if (a.opset < 13) {
    throw new RegraftError(`${a.where}: broadcast axes of '${a.input.name}' are only known at run time, which needs opset 13 or later; declare static shapes or raise the model's opset`);
  }
  const one = b.int64Init('one_i64', [1], []);
  const xIsOne = b.op('Equal', [a.shapeOf(a.input), one]);
  const gIsOne = b.op('Equal', [b.op('Shape', [g]), one]);
  const stretched = b.op('And', [xIsOne, b.op('Not', [gIsOne])]);
  const axes = b.op('Reshape', [b.op('NonZero', [stretched]), b.ints([-1])]);
  const summed = b.op('ReduceSum', [g, axes], { keepdims: 1, noop_with_empty_axes: 1 });
  return b.op('Reshape', [summed, a.shapeOf(a.input)]);
}
