// Helpers shared by the NN gradient-rule tests: inputs that keep MaxPool away from ties.
import { Rng } from '../../../src/util/rng.js';

/** `n` distinct values 0.1 apart in shuffled order: central differences (eps 1e-2) never swap a maximum. */
export function distinctValues(n: number, seed = 3): number[] {
  const rng = new Rng(seed);
  const values = Array.from({ length: n }, (_, i) => (i - n / 2) * 0.1);
  return Array.from(rng.shuffle(values));
}

export const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
