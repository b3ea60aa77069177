// --schedule linear is Hugging Face's get_linear_schedule_with_warmup: the rate of every optimizer step against the
// rates torch.optim.SGD had under that scheduler (test/fixtures/finetune/references.json), and in a run, counted in
// optimizer updates (with --accumulate, one update per N batches).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { learningRate } from '../../src/training/schedule.js';
import { train } from '../../src/training/trainer.js';
import { FINETUNE } from '../fixtures-npz.js';
import { MNIST_SUBSET, readMetrics, tempDir, writeSmallMlp } from './fixtures/runs.js';

interface Case {
  lr: number;
  warmup_steps: number;
  total_steps: number;
  rates: number[];
}
const cases = JSON.parse(readFileSync(join(FINETUNE, 'references.json'), 'utf8')).linear_schedule as Case[];

describe('linear schedule with warmup', () => {
  it.each(cases.map((c) => [c.warmup_steps, c.total_steps, c] as const))('warmup %i of %i steps: every step as transformers computes it', (_w, _t, c) => {
    expect(c.rates).toHaveLength(c.total_steps);
    // The same steps cut into 1 epoch, and into epochs of whatever length divides the run.
    for (const epochs of [1, ...[2, 3, 4].filter((e) => c.total_steps % e === 0)]) {
      const stepsPerEpoch = c.total_steps / epochs;
      const settings = { lr: c.lr, schedule: 'linear' as const, stepSize: 1, gamma: 1, epochs, warmup: c.warmup_steps / stepsPerEpoch };
      c.rates.forEach((rate, s) => {
        const epoch = Math.floor(s / stepsPerEpoch);
        expect(learningRate(settings, epoch, (s % stepsPerEpoch) / stepsPerEpoch, stepsPerEpoch), `step ${s}, ${epochs} epochs`).toBeCloseTo(rate, 12);
      });
    }
  });

  it('a run decays per optimizer update: with --accumulate 2, 16 batches an epoch are 8 updates', async () => {
    const dir = tempDir('schedule');
    // 512 samples, no validation, batch 32: 16 batches, 8 updates an epoch, 24 in 3 epochs, no warmup.
    const result = await train({ model: await writeSmallMlp(dir), data: MNIST_SUBSET, limit: 512, valSplit: 0, batchSize: 32, accumulate: 2, epochs: 3, lr: 0.1, schedule: 'linear', out: join(dir, 'run') });
    const lrs = readMetrics(result.runDir).map((m) => m.lr);
    [1, 16 / 24, 8 / 24].forEach((factor, e) => expect(lrs[e]).toBeCloseTo(0.1 * factor, 12));
  });
});
