import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTuneQuality } from '../../bench/tune-quality.js';

// The tuning issue's bar, on a subset of MNIST so it fits the suite: a 16-trial random search over lr, l2 and the
// Dropout ratio of the article's MLP finds a configuration within 0.5 points of the best of a 27-point grid over
// the same ranges. Every trial is a real train() run in a worker process (dist/ is built by `npm test` first).
describe('search quality on MNIST (subset)', () => {
  it('random search (16 trials) comes within 0.5 points of the grid (27 trials)', async () => {
    expect(existsSync(join(import.meta.dirname, '..', '..', 'dist', 'tune', 'train-trial.js'))).toBe(true);
    const r = await runTuneQuality({ limit: 4000, epochs: 1, trials: 16, seeds: [1], parallel: 2, tpe: false });
    console.log(r.lines.join('\n'));
    expect(r.gridTrials).toBe(27);
    expect(r.gridBest).toBeGreaterThan(0.8);
    expect(r.gridBest - r.random[0].best).toBeLessThanOrEqual(0.005);
  }, 240_000);
});
