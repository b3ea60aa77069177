// Input generators for the extra elementwise rules, whose kinks are not at 0 (Clip bounds, HardSwish at +-3) or
// between inputs (Max/Min ties), so the helper's `minAbs` is not enough to keep the central differences meaningful.
import { Rng } from '../../../src/util/rng.js';

/** `n` uniform values in [lo, hi], none closer than `gap` to any kink (gradcheck's eps is 1e-2). */
export function awayFromKinks(n: number, range: [number, number], kinks: number[], seed: number, gap = 0.05): number[] {
  const rng = new Rng(seed);
  const out: number[] = [];
  while (out.length < n) {
    const x = rng.uniform(range[0], range[1]);
    if (kinks.every((k) => Math.abs(x - k) >= gap)) out.push(x);
  }
  return out;
}

/**
 * Values for several tensors (`counts` elements each) that are pairwise at least `step` apart, drawn without
 * replacement from a shuffled grid centred on 0: no two inputs of Max/Min/Where can tie or swap order under a
 * perturbation smaller than step / 2.
 */
export function separatedValues(counts: number[], seed: number, step = 0.1): number[][] {
  const rng = new Rng(seed);
  const total = counts.reduce((a, b) => a + b, 0);
  const grid = Array.from({ length: total }, (_, i) => (i - total / 2) * step);
  for (let i = grid.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [grid[i], grid[j]] = [grid[j], grid[i]];
  }
  let at = 0;
  return counts.map((c) => grid.slice(at, (at += c)));
}

export const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
