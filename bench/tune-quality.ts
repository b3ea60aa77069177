/**
 * Search quality on MNIST for the article's MLP (issue: tuning): a 16-trial random search over lr, l2 and Dropout
 * ratio against a grid over the same ranges, and TPE against random search in trials needed to reach random
 * search's best, averaged over a few seeds. Each trial is a real `train()` run (one worker process each).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseStudyConfig } from '../src/tune/config.js';
import { trainTrialModulePath } from '../src/tune/package-root.js';
import { tune } from '../src/tune/study.js';
import { BASE_ENV, TRAIN_PARAM_NAMES } from '../src/tune/train-trial.js';
import type { StudySummary } from '../src/tune/snapshot.js';

export interface TuneQualityOptions {
  /** Training samples per trial (first n of MNIST's 60,000). */
  limit?: number;
  /** Fraction of them that validates (the objective): larger is less noisy. */
  valSplit?: number;
  epochs?: number;
  trials?: number;
  seeds?: number[];
  parallel?: number;
  /** Also run TPE against random search (default true). */
  tpe?: boolean;
}

export interface TuneQualityResult {
  gridBest: number;
  gridTrials: number;
  random: { seed: number; best: number; reachedAt: number }[];
  tpe: { seed: number; best: number; reachedRandomBestAt: number | null }[];
  lines: string[];
}

const SPACE = {
  lr: { loguniform: [0.003, 0.3], grid: 3 },
  l2: { loguniform: [1e-6, 1e-3], grid: 3 },
  dropoutRatio: { uniform: [0.0, 0.6], grid: 3 },
};

function objectives(s: StudySummary): number[] {
  return [...s.trials].sort((a, b) => a.id - b.id).map((t) => t.objective ?? -Infinity);
}

/** 1-based trial at which the running best first reaches `target`, or null. */
function reachedAt(values: number[], target: number): number | null {
  let best = -Infinity;
  for (let i = 0; i < values.length; i++) {
    best = Math.max(best, values[i]);
    if (best >= target - 1e-12) return i + 1;
  }
  return null;
}

export async function runTuneQuality(opts: TuneQualityOptions = {}): Promise<TuneQualityResult> {
  const trials = opts.trials ?? 16;
  const seeds = opts.seeds ?? [1, 2, 3, 4, 5];
  const parallel = opts.parallel ?? 2;
  const dir = await mkdtemp(join(tmpdir(), 'regraft-tune-quality-'));
  const previous = process.env[BASE_ENV];
  process.env[BASE_ENV] = JSON.stringify({
    model: 'mlp', data: 'mnist', epochs: opts.epochs ?? 2, limit: opts.limit ?? 20_000, valSplit: opts.valSplit ?? 0.2, batchSize: 64,
    optimizer: 'momentum', dropoutAfter: ['Relu'], seed: 0,
  });
  const trialModule = trainTrialModulePath();
  const study = async (name: string, strategy: string, seed: number, count?: number) => {
    const config = parseStudyConfig(
      { space: SPACE, objective: { metric: 'val_accuracy', mode: 'max' }, strategy, seed, parallel, ...(count ? { trials: count } : {}) },
      { allowedParams: TRAIN_PARAM_NAMES },
    );
    return tune({ config, trialModule, studyPath: join(dir, `${name}.db`) });
  };
  try {
    const grid = objectives(await study('grid', 'grid', 0));
    const gridBest = Math.max(...grid);
    const random: TuneQualityResult['random'] = [];
    const tpe: TuneQualityResult['tpe'] = [];
    for (const seed of seeds) {
      const r = objectives(await study(`random-${seed}`, 'random', seed, trials));
      const rBest = Math.max(...r);
      random.push({ seed, best: rBest, reachedAt: reachedAt(r, rBest)! });
      if (opts.tpe === false) continue;
      const t = objectives(await study(`tpe-${seed}`, 'tpe', seed, trials));
      tpe.push({ seed, best: Math.max(...t), reachedRandomBestAt: reachedAt(t, rBest) });
    }
    const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
    const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const randomMean = meanOf(random.map((r) => r.reachedAt));
    // A TPE run that never reaches random's best is counted as trials + 1.
    const tpeMean = tpe.length > 0 ? meanOf(tpe.map((t) => t.reachedRandomBestAt ?? trials + 1)) : NaN;
    const lines = [
      `tune quality: MLP on ${opts.limit ?? 20_000} MNIST samples (${100 * (opts.valSplit ?? 0.2)}% validate), ${opts.epochs ?? 2} epochs per trial; space lr x l2 x dropoutRatio`,
      `  grid (${grid.length} trials) best val accuracy ${pct(gridBest)}`,
      ...random.map((r, i) => {
        const line = `  seed ${r.seed}: random best ${pct(r.best)} (grid - random ${(100 * (gridBest - r.best)).toFixed(2)} points) at trial ${r.reachedAt}`;
        return tpe[i] ? `${line}; tpe best ${pct(tpe[i].best)}, reached random's best at trial ${tpe[i].reachedRandomBestAt ?? `never (> ${trials})`}` : line;
      }),
      ...(tpe.length > 0 ? [`  trials to reach random's best, mean over seeds: random ${randomMean.toFixed(1)}, tpe ${tpeMean.toFixed(1)}`] : []),
    ];
    return { gridBest, gridTrials: grid.length, random, tpe, lines };
  } finally {
    if (previous === undefined) delete process.env[BASE_ENV];
    else process.env[BASE_ENV] = previous;
    await rm(dir, { recursive: true, force: true });
  }
}

export async function benchTuneQuality(): Promise<string> {
  return (await runTuneQuality()).lines.join('\n');
}
