/**
 * Parameter importances: how much of the objective's variance over the complete trials each parameter explains on
 * its own, normalized to sum to 1 (as Optuna's get_param_importances does).
 *
 * Optuna's default evaluator is fANOVA over a random forest fitted to the trials; its numbers depend on that forest
 * and its seed and are not reproduced here. What fANOVA reports for a parameter is the variance of the objective's
 * marginal over that parameter divided by the total variance. This estimates the same quantity without a model: the
 * correlation ratio eta^2 = sum_b n_b (mean_b - mean)^2 / sum_i (y_i - mean)^2, where the bins b are the choices of a
 * categorical parameter and equal-count quantile bins (about sqrt(n), at most 10) of a numeric one. On a study whose
 * parameters have clearly separated effects, the ranking matches Optuna's (test/tune/interop.test.ts checks it).
 */
import type { StudySnapshot } from './snapshot.js';
import type { ParamValue } from './types.js';

export interface ParamImportance {
  name: string;
  /** Share of the explained variance, 0..1; the importances of a study sum to 1. */
  importance: number;
}

export function paramImportances(study: StudySnapshot, names: readonly string[]): ParamImportance[] {
  const trials = study.trials.filter((t) => t.status === 'complete' && t.objective !== null && Number.isFinite(t.objective)
    && names.every((n) => t.params[n] !== undefined));
  if (trials.length < 2 || names.length === 0) return [];
  const y = trials.map((t) => t.objective as number);
  const mean = y.reduce((a, b) => a + b, 0) / y.length;
  const total = y.reduce((acc, v) => acc + (v - mean) ** 2, 0);
  const raw = names.map((name) => {
    const spec = study.config.space[name];
    const values = trials.map((t) => t.params[name]);
    const bins = spec?.kind === 'float' || spec?.kind === 'int' ? quantileBins(values as number[]) : categoryBins(values);
    let explained = 0;
    for (const members of bins) {
      if (members.length === 0) continue;
      const binMean = members.reduce((acc, i) => acc + y[i], 0) / members.length;
      explained += members.length * (binMean - mean) ** 2;
    }
    return { name, share: total > 0 ? explained / total : 0 };
  });
  const sum = raw.reduce((acc, r) => acc + r.share, 0);
  return raw
    .map((r) => ({ name: r.name, importance: sum > 0 ? r.share / sum : 1 / raw.length }))
    .sort((a, b) => b.importance - a.importance || a.name.localeCompare(b.name));
}

function categoryBins(values: readonly ParamValue[]): number[][] {
  const groups = new Map<string, number[]>();
  values.forEach((v, i) => groups.set(JSON.stringify(v), [...(groups.get(JSON.stringify(v)) ?? []), i]));
  return [...groups.values()];
}

/** Equal-count bins by rank; equal values always share a bin, so the bins are the same on a log or linear scale. */
function quantileBins(values: readonly number[]): number[][] {
  const order = values.map((v, i) => i).sort((a, b) => values[a] - values[b]);
  const count = Math.min(10, Math.max(2, Math.round(Math.sqrt(values.length))));
  const bins: number[][] = [];
  let current: number[] = [];
  order.forEach((index, rank) => {
    const target = Math.floor((rank * count) / order.length);
    if (bins.length < target && current.length > 0 && values[index] !== values[current[current.length - 1]]) {
      bins.push(current);
      current = [];
    }
    current.push(index);
  });
  if (current.length > 0) bins.push(current);
  return bins;
}
