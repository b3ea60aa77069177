/**
 * The regression example's data: y = sin(x) + Gaussian noise (sd 0.05), x uniform in [-pi, pi]. Small, seeded and
 * committed as NPY in examples/, so the float-target path has a runnable example without any download.
 */
import { Rng } from '../util/rng.js';

export interface SineData {
  /** [n, 1] */
  x: Float32Array;
  /** [n] */
  y: Float32Array;
}

export function sineData(n: number, seed: number): SineData {
  const rng = new Rng(seed);
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = rng.uniform(-Math.PI, Math.PI);
    y[i] = Math.sin(x[i]) + 0.05 * rng.normal();
  }
  return { x, y };
}
