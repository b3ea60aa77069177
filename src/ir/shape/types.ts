import type { Node } from '../node.js';
import type { Dim, Value } from '../value.js';

/** What a shape rule returns for each output: element type and shape (undefined parts stay unknown). */
export interface InferredType {
  elemType?: number;
  shape?: Dim[];
  /** For a 1-D (or scalar) integer output that holds dimensions (Shape, and Gather/Concat/Slice of it): those dims. */
  dims?: Dim[];
}

export type ShapeRule = (node: Node, ctx: ShapeContext) => (InferredType | undefined)[];

export interface ShapeContext {
  shape(v: Value | null | undefined): Dim[] | undefined;
  elemType(v: Value | null | undefined): number | undefined;
  /** The values of a small constant integer tensor (an initializer or Constant output), when known statically. */
  constInts(v: Value | null | undefined): number[] | undefined;
  /**
   * The contents of an integer tensor that holds dimensions, possibly symbolic: constants, and values computed
   * from Shape (PyTorch's `Shape -> Gather -> Unsqueeze -> Concat -> Reshape`), so a batch dim `N` flows through.
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
