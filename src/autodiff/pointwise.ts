/*
 * One-input pointwise ops whose gradient is dx = dy * f'(x): their rules are formula tables (one line per op, the
 * rule's opTypes = Object.keys(table)), so the list of ops cannot drift from the formulas. A slope may read the
 * forward output y where that is cheaper than recomputing from x (Exp: dx = dy * y).
 */
import type { AttributeReader } from '../ir/attributes.js';
import type { GraphBuilder } from '../ir/builder.js';
import type { Value } from '../ir/value.js';
import type { GradContext } from './types.js';

/** What a slope is written in: the forward input x and output y, dy, the node's attributes. */
export interface SlopeTerms {
  readonly b: GraphBuilder;
  readonly x: Value;
  readonly y: Value;
  readonly dy: Value;
  readonly attrs: AttributeReader;
  /** For errors that name the node. */
  readonly ctx: GradContext;
}

/** dx for one op of a table: dy times the derivative, as graph nodes. */
export type Slope = (t: SlopeTerms) => Value;

/** The gradient of a one-input op from its table entry (no gradient when x needs none). */
export function pointwiseGrad(slopes: Readonly<Record<string, Slope>>, ctx: GradContext): [Value | null] {
  if (!ctx.needs(0)) return [null];
  return [slopes[ctx.node.opType]({ b: ctx.b, x: ctx.x(0), y: ctx.y(0), dy: ctx.dy(0)!, attrs: ctx.attrs, ctx })];
}

/** v * v. */
export function square(b: GraphBuilder, v: Value): Value {
  return b.mul(v, v);
}
