/**
 * Search-space entries as Optuna distributions (optuna/distributions.py's JSON form, `distribution_json` in
 * trial_params) and parameter values in Optuna's internal representation (`param_value`, a float): numbers as
 * themselves, categorical values as the index of the choice. A fixed value has no Optuna counterpart; it is stored as
 * a categorical distribution with one choice, which Optuna reads back as that value.
 */
import { RegraftError } from '../../errors.js';
import type { ParamSpec } from '../space.js';
import type { ParamValue } from '../types.js';

export type OptunaDistribution =
  | { name: 'FloatDistribution'; attributes: { low: number; high: number; log: boolean; step: number | null } }
  | { name: 'IntDistribution'; attributes: { low: number; high: number; log: boolean; step: number } }
  | { name: 'CategoricalDistribution'; attributes: { choices: (ParamValue | null)[] } };

export function distributionOf(spec: ParamSpec): OptunaDistribution {
  switch (spec.kind) {
    case 'float':
      return { name: 'FloatDistribution', attributes: { step: null, low: spec.low, high: spec.high, log: spec.log } };
    case 'int':
      return { name: 'IntDistribution', attributes: { log: spec.log, step: spec.step, low: spec.low, high: spec.high } };
    case 'categorical':
      return { name: 'CategoricalDistribution', attributes: { choices: [...spec.choices] } };
    case 'fixed':
      return { name: 'CategoricalDistribution', attributes: { choices: [spec.value] } };
  }
}

/** Reads distribution_json, including the pre-3.0 names Optuna still accepts (UniformDistribution, ...). */
export function parseDistribution(json: string, where: string): OptunaDistribution {
  let raw: { name?: unknown; attributes?: Record<string, unknown> };
  try {
    raw = JSON.parse(json) as typeof raw;
  } catch {
    throw new RegraftError(`${where}: distribution_json is not JSON: ${json.slice(0, 80)}`);
  }
  const a = raw.attributes ?? {};
  const num = (k: string) => Number(a[k]);
  switch (raw.name) {
    case 'FloatDistribution':
      return { name: 'FloatDistribution', attributes: { low: num('low'), high: num('high'), log: Boolean(a.log), step: a.step === null || a.step === undefined ? null : num('step') } };
    case 'UniformDistribution':
      return { name: 'FloatDistribution', attributes: { low: num('low'), high: num('high'), log: false, step: null } };
    case 'LogUniformDistribution':
      return { name: 'FloatDistribution', attributes: { low: num('low'), high: num('high'), log: true, step: null } };
    case 'DiscreteUniformDistribution':
      return { name: 'FloatDistribution', attributes: { low: num('low'), high: num('high'), log: false, step: num('q') } };
    case 'IntDistribution':
      return { name: 'IntDistribution', attributes: { low: num('low'), high: num('high'), log: Boolean(a.log), step: a.step === undefined ? 1 : num('step') } };
    case 'IntUniformDistribution':
      return { name: 'IntDistribution', attributes: { low: num('low'), high: num('high'), log: false, step: a.step === undefined ? 1 : num('step') } };
    case 'IntLogUniformDistribution':
      return { name: 'IntDistribution', attributes: { low: num('low'), high: num('high'), log: true, step: 1 } };
    case 'CategoricalDistribution':
      return { name: 'CategoricalDistribution', attributes: { choices: (a.choices as (ParamValue | null)[] | undefined) ?? [] } };
    default:
      throw new RegraftError(`${where}: unknown Optuna distribution ${JSON.stringify(raw.name)}`);
  }
}

/** A parameter's value as Optuna stores it in trial_params.param_value. */
export function toInternal(distribution: OptunaDistribution, value: ParamValue, name: string): number {
  if (distribution.name === 'CategoricalDistribution') {
    const index = distribution.attributes.choices.findIndex((c) => c === value);
    if (index < 0) {
      throw new RegraftError(`parameter '${name}': ${JSON.stringify(value)} is not one of its choices ${JSON.stringify(distribution.attributes.choices)}`);
    }
    return index;
  }
  if (typeof value !== 'number') throw new RegraftError(`parameter '${name}': expected a number, got ${JSON.stringify(value)}`);
  return value;
}

/** The value a trial ran with, from Optuna's internal representation. */
export function fromInternal(distribution: OptunaDistribution, internal: number): ParamValue {
  if (distribution.name === 'CategoricalDistribution') {
    const choice = distribution.attributes.choices[Math.round(internal)];
    // Optuna allows None as a choice; regraft parameters have no null, so it reads as the string 'None' would.
    return choice === null || choice === undefined ? 'None' : choice;
  }
  if (distribution.name === 'IntDistribution') return Math.round(internal);
  return internal;
}

/**
 * A value given from outside (Python's `enqueue_trial`, a migrated study) checked against the search-space entry; the
 * error names the parameter and what it allows.
 */
export function checkAgainstSpec(spec: ParamSpec, value: unknown, name: string): ParamValue {
  const fail = (allowed: string): never => {
    throw new RegraftError(`parameter '${name}': ${JSON.stringify(value)} is outside the search space (${allowed})`);
  };
  switch (spec.kind) {
    case 'fixed':
      return value === spec.value ? spec.value : fail(`fixed at ${JSON.stringify(spec.value)}`);
    case 'categorical': {
      const choice = spec.choices.find((c) => c === value);
      return choice !== undefined ? choice : fail(`one of ${JSON.stringify(spec.choices)}`);
    }
    case 'float':
    case 'int': {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < spec.low || value > spec.high) {
        return fail(`a number in [${spec.low}, ${spec.high}]`);
      }
      if (spec.kind === 'int' && (!Number.isInteger(value) || (value - spec.low) % spec.step !== 0)) {
        return fail(`an integer in [${spec.low}, ${spec.high}] on step ${spec.step}`);
      }
      return value;
    }
  }
}
