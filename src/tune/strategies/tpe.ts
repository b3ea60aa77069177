/**
 * Tree-structured Parzen Estimator (Bergstra et al. 2011), with parameters treated independently as in the paper:
 *
 *   1. Until `startupTrials` trials have finished, sample at random (the same draws random search would make).
 *   2. Order finished trials best first (complete ones by objective, then pruned ones: a pruned trial was stopped
 *      for being poor, so it never outranks a complete one) and split them at the gamma quantile into good and bad.
 *   3. Per parameter, fit a Parzen estimator l(x) to the good values and g(x) to the bad ones, in log space for log
 *      parameters; draw `candidates` values from l and keep the one with the largest l(x)/g(x), which maximises
 *      expected improvement under the model. Categorical parameters use smoothed frequencies (each choice starts
 *      with a pseudo-count of 1) instead of kernels.
 */
import type { CategoricalSpec, NumericSpec, SearchSpace } from '../space.js';
import { snapInt } from '../space.js';
import type { ObjectiveMode, ParamValue, Params } from '../types.js';
import type { Rng } from '../../util/rng.js';
import { fitParzen, logPdfParzen, pickIndex, sampleParzen } from './parzen.js';
import { sampleSpace } from './random.js';
import { STREAM, toLoss, trialRng, type HistoryTrial, type Strategy } from './strategy.js';

export interface TpeSettings {
  startupTrials: number;
  gamma: number;
  candidates: number;
}

export class TpeStrategy implements Strategy {
  readonly name = 'tpe';

  constructor(
    private readonly space: SearchSpace,
    private readonly seed: number,
    private readonly mode: ObjectiveMode,
    private readonly settings: TpeSettings,
  ) {}

  suggest(history: readonly HistoryTrial[], trialId: number): Params {
    const ranked = this.rankFinished(history);
    if (ranked.length < Math.max(this.settings.startupTrials, 1)) return sampleSpace(this.space, this.seed, trialId);

    const nGood = Math.max(1, Math.ceil(this.settings.gamma * ranked.length));
    const good = ranked.slice(0, nGood);
    const bad = ranked.slice(nGood);
    const rng = trialRng(this.seed, trialId, STREAM.tpe);
    const params: Params = {};
    for (const [name, spec] of Object.entries(this.space)) {
      const goodValues = good.map((t) => t.params[name]);
      const badValues = bad.map((t) => t.params[name]);
      switch (spec.kind) {
        case 'fixed':
          params[name] = spec.value;
          break;
        case 'categorical':
          params[name] = this.suggestCategorical(spec, goodValues, badValues, rng);
          break;
        default:
          params[name] = this.suggestNumeric(spec, goodValues, badValues, rng);
      }
    }
    return params;
  }

  private rankFinished(history: readonly HistoryTrial[]): HistoryTrial[] {
    const usable = (status: string) =>
      history.filter((t) => t.status === status && t.objective !== null && Number.isFinite(t.objective));
    const byLoss = (a: HistoryTrial, b: HistoryTrial) =>
      toLoss(a.objective as number, this.mode) - toLoss(b.objective as number, this.mode);
    return [...usable('complete').sort(byLoss), ...usable('pruned').sort(byLoss)];
  }

  private suggestNumeric(spec: NumericSpec, goodValues: ParamValue[], badValues: ParamValue[], rng: Rng): number {
    if (spec.low === spec.high) return spec.low;
    const { low, high } = internalBounds(spec);
    const toInternal = (v: number) => (spec.log ? Math.log(v) : v);
    // Values outside the current space (a space edited between runs) are skipped rather than trusted.
    const numbers = (vs: ParamValue[]) =>
      vs.filter((v): v is number => typeof v === 'number' && v >= spec.low && v <= spec.high).map(toInternal);
    const l = fitParzen(numbers(goodValues), low, high);
    const g = fitParzen(numbers(badValues), low, high);
    let best = NaN;
    let bestScore = -Infinity;
    for (let i = 0; i < this.settings.candidates; i++) {
      const x = sampleParzen(l, rng);
      const score = logPdfParzen(l, x) - logPdfParzen(g, x);
      if (score > bestScore) {
        bestScore = score;
        best = x;
      }
    }
    const value = spec.log ? Math.exp(best) : best;
    if (spec.kind === 'int') return snapInt(spec, value);
    return Math.min(Math.max(value, spec.low), spec.high);
  }

  private suggestCategorical(spec: CategoricalSpec, goodValues: ParamValue[], badValues: ParamValue[], rng: Rng): ParamValue {
    const frequencies = (values: ParamValue[]) => {
      const counts = spec.choices.map((c) => 1 + values.filter((v) => v === c).length);
      const total = counts.reduce((a, b) => a + b, 0);
      return counts.map((c) => c / total);
    };
    const l = frequencies(goodValues);
    const g = frequencies(badValues);
    let best = 0;
    let bestScore = -Infinity;
    for (let i = 0; i < this.settings.candidates; i++) {
      const k = pickIndex(l, rng);
      const score = Math.log(l[k]) - Math.log(g[k]);
      if (score > bestScore) {
        bestScore = score;
        best = k;
      }
    }
    return spec.choices[best];
  }
}

/** The interval TPE models a numeric parameter on: log space for log parameters, widened by half a step for ints. */
function internalBounds(spec: NumericSpec): { low: number; high: number } {
  const pad = spec.kind === 'int' ? (spec.log ? 0.5 : spec.step / 2) : 0;
  const low = spec.low - pad;
  const high = spec.high + pad;
  return spec.log ? { low: Math.log(low), high: Math.log(high) } : { low, high };
}

/** Defaults: gamma 0.25 (the paper's reference implementation), 24 candidates (hyperopt and Optuna), and about a
 * third of the budget, between 3 and 10 trials, spent on random startup. */
export function defaultTpeSettings(trials: number, given: Partial<TpeSettings> = {}): TpeSettings {
  return {
    startupTrials: given.startupTrials ?? Math.max(3, Math.min(10, Math.round(trials / 3))),
    gamma: given.gamma ?? 0.25,
    candidates: given.candidates ?? 24,
  };
}
