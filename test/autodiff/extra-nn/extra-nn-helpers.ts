// Helpers shared by the extra NN gradient-rule tests (Pad, max reductions, ConvTranspose).
import { buildBackward } from '../../../src/autodiff/backward.js';
import type { OpModel } from '../helpers.js';

export { count, distinctValues } from '../nn/nn-helpers.js';

/** Builds the backward pass of a test model for all its params (for the cases that must be refused). */
export function buildBackwardOf(m: OpModel): void {
  const g = m.model.graph;
  buildBackward(m.model, { loss: g.requireValue(m.loss), wrt: m.params.map((p) => g.requireValue(p)) });
}

/** Plain row-major sums for the hand computations. */
export const sum = (values: ArrayLike<number>) => Array.from(values).reduce((a, b) => a + b, 0);
