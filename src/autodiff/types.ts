import type { AttributeReader } from '../ir/attributes.js';
import type { GraphBuilder } from '../ir/builder.js';
import type { Node } from '../ir/node.js';
import type { LostFact } from '../ir/shape/lost-track.js';
import type { Dim, Value } from '../ir/value.js';

/**
 * What a gradient rule sees of the node it differentiates. Rules emit ordinary ONNX ops through `b`; the
 * backward driver has positioned the builder and named the nodes (`grad/...`).
 */
export interface GradContext {
  readonly node: Node;
  readonly b: GraphBuilder;
  /** The node's attributes, typed. */
  readonly attrs: AttributeReader;
  /** The model's ai.onnx opset version (ReduceSum axes as input from 13, etc.). */
  readonly opset: number;
  /** Forward input `i` (an error naming the node if the slot is empty). */
  x(i: number): Value;
  /** Whether forward input `i` is present (optional inputs may be omitted). */
  hasInput(i: number): boolean;
  /** Forward output `i`. */
  y(i: number): Value;
  /** Gradient of the loss with respect to output `i`, or null when that output does not reach the loss. */
  dy(i: number): Value | null;
  /** Whether input `i` needs a gradient: it lies on a path from a trainable parameter. Compute nothing else. */
  needs(i: number): boolean;
  /** Sums `g` (shaped like the broadcast result) down to the shape of input `i`, the one place broadcasting is undone. */
  unbroadcast(g: Value, i: number): Value;
  /** Static shape of a value when shape inference knows it. */
  shape(v: Value): Dim[] | undefined;
  /** Static rank, when known. */
  rank(v: Value): number | undefined;
  /** `Shape(v)` at run time (one node per value, shared between rules). */
  shapeOf(v: Value): Value;
  /**
   * The contents of a small integer tensor that the shape analysis knows before running: constants, and values
   * computed from shapes (a Slice bound `Shape(x)[1] - 1` is `sequence - 1`, or 9 when the shape is static).
   */
  dims(v: Value): Dim[] | undefined;
  /** The same contents when every element is a number (folded to a constant). */
  ints(v: Value): number[] | undefined;
  /**
   * The end of an error for a rule that needs `what` of `v` and the analysis lacks it: where it lost track and
   * what to do (ir/shape/lost-track.ts).
   */
  lostTrack(v: Value, what: LostFact): string;
}

/** A gradient rule: one entry per forward input, null where no gradient is needed or defined. */
export interface GradientRule {
  /** The op types this rule differentiates (an op family may share one rule). */
  readonly opTypes: readonly string[];
  /** '' (default) for ai.onnx. */
  readonly domain?: string;
  grad(ctx: GradContext): readonly (Value | null | undefined)[];
}
