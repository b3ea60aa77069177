/**
 * Search spaces: which values each hyperparameter may take, written either in a config file (JSON or YAML) or with
 * the builder functions below. Both forms end up as the same validated `SearchSpace`.
 *
 * Config form (one entry per parameter):
 *
 *   space:
 *     lr:           { loguniform: [1.0e-3, 0.3] }          # float, sampled uniformly in log space
 *     momentum:     { uniform: [0, 0.99], grid: 3 }        # float, linear; `grid` is only read by the grid strategy
 *     hidden:       { int: [32, 512], log: true }          # integer, optional log scale
 *     epochs:       { int: [2, 10], step: 2 }              # integer on a step (2, 4, ..., 10)
 *     batchSize:    { categorical: [32, 64, 128] }         # any list of numbers, strings or booleans
 *     optimizer:    sgd                                    # a bare value is fixed (same as { fixed: sgd })
 *     l2:           { loguniform: [1.0e-6, 1.0e-2], grid: [1.0e-5, 1.0e-4, 1.0e-3] }
 *
 * `grid` is a count (that many evenly spaced points, in log space for log parameters, integers rounded and
 * de-duplicated) or an explicit list of values inside the range. Categorical and fixed parameters need no grid.
 */
import { didYouMean } from '../util/nearest-name.js';
import { RegraftError } from '../errors.js';
import type { Rng } from '../util/rng.js';
import type { ParamValue } from './types.js';

export type GridSpec = number | number[];

export interface FloatSpec {
  kind: 'float';
  low: number;
  high: number;
  log: boolean;
  grid?: GridSpec;
}

export interface IntSpec {
  kind: 'int';
  low: number;
  high: number;
  log: boolean;
  step: number;
  grid?: GridSpec;
}

export interface CategoricalSpec {
  kind: 'categorical';
  choices: ParamValue[];
}

export interface FixedSpec {
  kind: 'fixed';
  value: ParamValue;
}

export type ParamSpec = FloatSpec | IntSpec | CategoricalSpec | FixedSpec;
export type NumericSpec = FloatSpec | IntSpec;
export type SearchSpace = Record<string, ParamSpec>;

export function loguniform(low: number, high: number, opts: { grid?: GridSpec } = {}): FloatSpec {
  return { kind: 'float', low, high, log: true, ...gridOption(opts.grid) };
}

export function uniform(low: number, high: number, opts: { grid?: GridSpec } = {}): FloatSpec {
  return { kind: 'float', low, high, log: false, ...gridOption(opts.grid) };
}

export function int(low: number, high: number, opts: { log?: boolean; step?: number; grid?: GridSpec } = {}): IntSpec {
  return { kind: 'int', low, high, log: opts.log ?? false, step: opts.step ?? 1, ...gridOption(opts.grid) };
}

export function categorical(choices: ParamValue[]): CategoricalSpec {
  return { kind: 'categorical', choices: [...choices] };
}

export function fixed(value: ParamValue): FixedSpec {
  return { kind: 'fixed', value };
}

function gridOption(grid: GridSpec | undefined): { grid?: GridSpec } {
  return grid === undefined ? {} : { grid };
}

export interface ParseSpaceOptions {
  /** Parameter names the trial function accepts; any other name is an error. */
  allowedParams?: readonly string[];
  /** Where the space came from (a file name), for error messages. */
  source?: string;
}

/** Validates a search space given in config form or built with the functions above (the two may be mixed). */
export function parseSpace(raw: unknown, opts: ParseSpaceOptions = {}): SearchSpace {
  const where = opts.source ? `${opts.source}: ` : '';
  if (!isPlainObject(raw) || Object.keys(raw).length === 0) {
    throw new RegraftError(`${where}the search space must be a non-empty mapping from parameter names to ranges`);
  }
  const space: SearchSpace = {};
  for (const [name, entry] of Object.entries(raw)) {
    const fail = (msg: string): never => {
      throw new RegraftError(`${where}search space parameter '${name}': ${msg}`);
    };
    if (opts.allowedParams && !opts.allowedParams.includes(name)) {
      fail(`unknown parameter${didYouMean(name, opts.allowedParams)} (the trainer accepts ${opts.allowedParams.join(', ')})`);
    }
    space[name] = parseParam(entry, fail);
  }
  return space;
}

const FORM_KEYS = ['loguniform', 'uniform', 'int', 'categorical', 'fixed'] as const;

function parseParam(entry: unknown, fail: (msg: string) => never): ParamSpec {
  if (isParamValue(entry)) return fixed(entry);
  if (!isPlainObject(entry)) {
    return fail(`expected a number, string, boolean or one of {${FORM_KEYS.join(' | ')}: ...}`);
  }
  if ('kind' in entry) return validateSpec(entry as unknown as ParamSpec, fail);
  const forms = FORM_KEYS.filter((k) => k in entry);
  if (forms.length !== 1) {
    return fail(`give exactly one of ${FORM_KEYS.join(', ')} (got ${forms.length === 0 ? 'none' : forms.join(', ')})`);
  }
  const form = forms[0];
  const allowedKeys: Record<(typeof FORM_KEYS)[number], string[]> = {
    loguniform: ['loguniform', 'grid'],
    uniform: ['uniform', 'grid'],
    int: ['int', 'log', 'step', 'grid'],
    categorical: ['categorical'],
    fixed: ['fixed'],
  };
  const extra = Object.keys(entry).filter((k) => !allowedKeys[form].includes(k));
  if (extra.length > 0) fail(`unknown key '${extra[0]}' for ${form}; allowed: ${allowedKeys[form].join(', ')}`);

  const value = entry[form];
  const grid = entry.grid as GridSpec | undefined;
  switch (form) {
    case 'loguniform':
    case 'uniform': {
      const [low, high] = bounds(value, form, fail);
      return validateSpec(form === 'loguniform' ? loguniform(low, high, { grid }) : uniform(low, high, { grid }), fail);
    }
    case 'int': {
      const [low, high] = bounds(value, form, fail);
      if (entry.log !== undefined && typeof entry.log !== 'boolean') fail(`'log' must be true or false`);
      if (entry.step !== undefined && typeof entry.step !== 'number') fail(`'step' must be a number`);
      return validateSpec(int(low, high, { log: entry.log as boolean | undefined, step: entry.step as number | undefined, grid }), fail);
    }
    case 'categorical':
      if (!Array.isArray(value)) return fail(`categorical needs a list of values, e.g. {categorical: [32, 64, 128]}`);
      return validateSpec(categorical(value as ParamValue[]), fail);
    case 'fixed':
      return validateSpec(fixed(value as ParamValue), fail);
  }
}

function bounds(value: unknown, form: string, fail: (msg: string) => never): [number, number] {
  if (!Array.isArray(value) || value.length !== 2 || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    return fail(`${form} needs two finite numbers [low, high], got ${JSON.stringify(value)}`);
  }
  return [value[0] as number, value[1] as number];
}

/** Checks a spec built by the API or parsed from a config; returns it unchanged. */
function validateSpec(spec: ParamSpec, fail: (msg: string) => never): ParamSpec {
  switch (spec.kind) {
    case 'float':
    case 'int': {
      const label = spec.kind === 'int' ? 'int' : spec.log ? 'loguniform' : 'uniform';
      if (!Number.isFinite(spec.low) || !Number.isFinite(spec.high)) fail(`${label} bounds must be finite numbers`);
      if (spec.low > spec.high) fail(`low ${spec.low} is greater than high ${spec.high}; swap them`);
      if (spec.log && spec.low <= 0) {
        fail(`a log scale needs positive bounds, got low ${spec.low}; raise low or use a linear range`);
      }
      if (spec.kind === 'int') {
        if (!Number.isInteger(spec.low) || !Number.isInteger(spec.high)) fail(`int bounds must be integers, got [${spec.low}, ${spec.high}]`);
        if (!Number.isInteger(spec.step) || spec.step < 1) fail(`step must be a positive integer, got ${spec.step}`);
        if (spec.log && spec.step !== 1) fail(`a log-scale int cannot have a step (got ${spec.step}); drop one of them`);
      }
      if (spec.grid !== undefined) validateGrid(spec, fail);
      return spec;
    }
    case 'categorical':
      if (!Array.isArray(spec.choices) || spec.choices.length === 0) fail(`categorical needs at least one choice`);
      for (const c of spec.choices) {
        if (!isParamValue(c)) fail(`categorical choices must be numbers, strings or booleans, got ${JSON.stringify(c)}`);
      }
      if (new Set(spec.choices).size !== spec.choices.length) fail(`categorical choices repeat a value`);
      return spec;
    case 'fixed':
      if (!isParamValue(spec.value)) fail(`a fixed value must be a number, string or boolean, got ${JSON.stringify(spec.value)}`);
      return spec;
    default:
      return fail(`unknown kind '${(spec as { kind: unknown }).kind}'`);
  }
}

function validateGrid(spec: NumericSpec, fail: (msg: string) => never): void {
  const grid = spec.grid;
  if (typeof grid === 'number') {
    if (!Number.isInteger(grid) || grid < 1) fail(`grid must be a positive integer count or a list of values, got ${grid}`);
    return;
  }
  if (!Array.isArray(grid) || grid.length === 0) fail(`grid must be a positive integer count or a non-empty list of values`);
  for (const v of grid as number[]) {
    if (typeof v !== 'number' || v < spec.low || v > spec.high) {
      fail(`grid value ${JSON.stringify(v)} is outside [${spec.low}, ${spec.high}]`);
    }
    if (spec.kind === 'int' && !Number.isInteger(v)) fail(`grid value ${v} is not an integer`);
  }
}

/** A value drawn uniformly from the parameter's range (uniform in log space for log parameters). */
export function sampleParam(spec: ParamSpec, rng: Rng): ParamValue {
  switch (spec.kind) {
    case 'fixed':
      return spec.value;
    case 'categorical':
      return spec.choices[rng.int(spec.choices.length)];
    case 'float':
      return spec.log ? Math.exp(rng.uniform(Math.log(spec.low), Math.log(spec.high))) : rng.uniform(spec.low, spec.high);
    case 'int': {
      // Widen by half a step on each side so that both end points are as likely as the inner values.
      const x = spec.log
        ? Math.exp(rng.uniform(Math.log(spec.low - 0.5), Math.log(spec.high + 0.5)))
        : rng.uniform(spec.low - spec.step / 2, spec.high + spec.step / 2);
      return snapInt(spec, x);
    }
  }
}

/** The nearest allowed integer of an int parameter. */
export function snapInt(spec: IntSpec, x: number): number {
  const k = Math.round((x - spec.low) / spec.step);
  const maxK = Math.floor((spec.high - spec.low) / spec.step);
  return spec.low + Math.min(Math.max(k, 0), maxK) * spec.step;
}

export function isParamValue(v: unknown): v is ParamValue {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
