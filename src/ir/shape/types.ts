import type { Node } from '../node.js';
import type { Dim, Value } from '../value.js';

/** What a shape rule returns for each output: element type and shape (undefined parts stay unknown). */
export interface InferredType {
  elemType?: number;
  shape?: Dim[];
  /**
   * For a scalar or 1-D integer (or bool) output whose contents the analysis knows (Shape, and the shape arithmetic
   * on it: values.ts): those contents, as dims (symbolic where they depend on a symbolic dim, null where unknown).
   */
  dims?: Dim[];
}

export type ShapeRule = (node: Node, ctx: ShapeContext) => (InferredType | undefined)[];

export interface ShapeContext {
  shape(v: Value | null | undefined): Dim[] | undefined;
  elemType(v: Value | null | undefined): number | undefined;
  /**
   * The values of a small integer tensor when every one is a known number: constants (initializers, Constant
   * outputs) and values the analysis folded (a Slice bound computed from a static shape).
   */
  constInts(v: Value | null | undefined): number[] | undefined;
  /**
   * The contents of a scalar or 1-D integer tensor, possibly symbolic: constants, and values computed from Shape
   * (PyTorch's `Shape -> Gather -> Unsqueeze -> Concat -> Reshape`), so a batch dim `N` flows through.
   */
  dims(v: Value | null | undefined): Dim[] | undefined;
}

/** Some op types and the rule that infers their outputs. */
export interface ShapeRuleEntry {
  readonly opTypes: readonly string[];
  readonly rule: ShapeRule;
}

/** One op family of the registry (ir/shape/rules.ts): its name, for errors, and its entries. */
export interface ShapeFamily {
  readonly family: string;
  readonly rules: readonly ShapeRuleEntry[];
}

/** What an inference run knows of integer tensors' contents (see InferredType.dims), by value. */
export type ShapeFacts = ReadonlyMap<Value, Dim[]>;
