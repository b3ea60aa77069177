/**
 * Tuning benchmark: the same study of equal trials (the article's MLP, one epoch on an MNIST subset each) run with
 * one worker process and with two, timed side by side. On 2 cores two workers should take clearly less wall time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseStudyConfig } from '../src/tune/config.js';
import { trainTrialModulePath } from '../src/tune/package-root.js';
import { tune } from '../src/tune/study.js';
import { BASE_ENV, TRAIN_PARAM_NAMES } from '../src/tune/train-trial.js';

async function timeStudy(dir: string, parallel: number, trials: number): Promise<number> {
  const config = parseStudyConfig(
    { space: { lr: { categorical: [0.05] } }, objective: { metric: 'val_accuracy', mode: 'max' }, strategy: 'random', trials, parallel, seed: 0 },
    { allowedParams: TRAIN_PARAM_NAMES },
  );
  const trialModule = trainTrialModulePath();
  const t0 = performance.now();
  await tune({ config, trialModule, studyPath: join(dir, `study-p${parallel}.db`) });
  return (performance.now() - t0) / 1000;
}

export async function benchTune(opts: { trials?: number } = {}): Promise<string> {
  const trials = opts.trials ?? 4;
  const dir = await mkdtemp(join(tmpdir(), 'regraft-bench-tune-'));
  const previous = process.env[BASE_ENV];
  process.env[BASE_ENV] = JSON.stringify({ model: 'mlp', data: 'mnist', epochs: 1, limit: 12_000, batchSize: 64, optimizer: 'momentum', dropoutAfter: ['Relu'] });
  try {
    const one = await timeStudy(dir, 1, trials);
    const two = await timeStudy(dir, 2, trials);
    return [
      `tune: ${trials} equal trials (MLP, 1 epoch on 12,000 MNIST samples each), one worker vs two on ${(await import('node:os')).availableParallelism()} cores`,
      `  --parallel 1: ${one.toFixed(1)} s, --parallel 2: ${two.toFixed(1)} s, speed-up ${(one / two).toFixed(2)}x (clearly less wall time: ${one / two >= 1.3 ? 'yes' : 'NO'})`,
    ].join('\n');
  } finally {
    if (previous === undefined) delete process.env[BASE_ENV];
    else process.env[BASE_ENV] = previous;
    await rm(dir, { recursive: true, force: true });
  }
}
