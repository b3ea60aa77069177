/**
 * A study's configuration, read from a JSON or YAML file or given as an object. Example (YAML):
 *
 *   name: mnist-mlp                       # optional; defaults to the file name or "study"
 *   space:                                # see space.ts for every form
 *     lr:           { loguniform: [1.0e-3, 0.3] }
 *     batchSize:    { categorical: [32, 64, 128] }
 *     l2:           { loguniform: [1.0e-6, 1.0e-2] }
 *     dropoutRatio: { uniform: [0, 0.6] }
 *     epochs:       9
 *   objective: { metric: val_accuracy, mode: max }   # mode: max or min
 *   strategy: tpe                         # grid | random | tpe, or with options:
 *                                         #   { tpe: { startupTrials: 5, gamma: 0.25, candidates: 24 } }
 *   trials: 16                            # total, resumes included; grid defaults to the grid's size, others to 20
 *   parallel: 2                           # worker processes; default os.availableParallelism()
 *   seed: 0
 *   pruner: { asha: { minEpochs: 1, eta: 3, maxEpochs: 9, metric: val_accuracy } }   # or none (the default)
 *                                         # asha also takes mode (default: the objective's) and minTrialsAtRung (1)
 *
 * The same shape in JSON works: { "space": { "lr": { "loguniform": [0.001, 0.3] } }, "objective": ... }.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, extname } from 'node:path';
import { RegraftError, describeError } from '../errors.js';
import { didYouMean } from '../util/nearest-name.js';
import { parseYaml } from '../util/yaml.js';
import { isPlainObject, parseSpace, type SearchSpace } from './space.js';
import { gridSize } from './strategies/grid.js';
import type { StrategyConfig } from './strategies/strategy.js';
import type { ObjectiveMode } from './types.js';

export interface AshaConfig {
  name: 'asha';
  /** Per-epoch metric to compare; defaults to the objective metric. */
  metric: string;
  /** Whether larger (max) or smaller (min) values of `metric` are better; defaults to the objective's mode. */
  mode: ObjectiveMode;
  /** First rung; rungs are at minEpochs * eta^k epochs. */
  minEpochs: number;
  /** Reduction factor: a trial goes on past a rung only if it is in the top 1/eta there. */
  eta: number;
  /** No rung at or beyond this epoch (the trial's full length); unbounded when absent. */
  maxEpochs?: number;
  /** Trials at a rung before anyone is pruned there; until then everyone continues. */
  minTrialsAtRung: number;
}

export interface StudyConfig {
  name: string;
  space: SearchSpace;
  objective: { metric: string; mode: ObjectiveMode };
  strategy: StrategyConfig;
  trials: number;
  parallel: number;
  seed: number;
  pruner: AshaConfig | null;
}

export interface ParseConfigOptions {
  allowedParams?: readonly string[];
  /** File the config came from, for error messages and the default study name. */
  source?: string;
}

const TOP_KEYS = ['name', 'space', 'objective', 'strategy', 'trials', 'parallel', 'seed', 'pruner'];
const DEFAULT_TRIALS = 20;

export function loadStudyConfig(path: string, opts: Omit<ParseConfigOptions, 'source'> = {}): StudyConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RegraftError(`cannot read tuning config ${path}: ${describeError(err)}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text); // YAML is a superset of JSON, so one parser reads both
  } catch (err) {
    throw new RegraftError(`${path}: not valid YAML or JSON: ${describeError(err)}`);
  }
  return parseStudyConfig(raw, { ...opts, source: path });
}

export function parseStudyConfig(raw: unknown, opts: ParseConfigOptions = {}): StudyConfig {
  const where = opts.source ? `${opts.source}: ` : 'tuning config: ';
  const fail = (msg: string): never => {
    throw new RegraftError(`${where}${msg}`);
  };
  if (!isPlainObject(raw)) return fail('expected a mapping with at least `space` and `objective`');
  const unknown = Object.keys(raw).filter((k) => !TOP_KEYS.includes(k));
  if (unknown.length > 0) fail(`unknown key '${unknown[0]}'${didYouMean(unknown[0], TOP_KEYS)} (allowed: ${TOP_KEYS.join(', ')})`);

  const space = parseSpace(raw.space, { allowedParams: opts.allowedParams, source: opts.source });
  const objective = parseObjective(raw.objective, fail);
  const strategy = parseStrategy(raw.strategy ?? 'tpe', fail);
  const seed = optionalInt(raw.seed, 'seed', 0, 0, fail);
  const parallel = optionalInt(raw.parallel, 'parallel', availableParallelism(), 1, fail);
  const defaultTrials = strategy.name === 'grid' ? gridSize(space) : DEFAULT_TRIALS;
  const trials = optionalInt(raw.trials, 'trials', defaultTrials, 1, fail);
  const pruner = parsePruner(raw.pruner, objective, fail);
  const name = typeof raw.name === 'string' && raw.name.length > 0
    ? raw.name
    : opts.source ? basename(opts.source, extname(opts.source)) : 'study';
  if (raw.name !== undefined && typeof raw.name !== 'string') fail(`'name' must be a string`);
  return { name, space, objective, strategy, trials, parallel, seed, pruner };
}

function parseObjective(raw: unknown, fail: (msg: string) => never): StudyConfig['objective'] {
  if (!isPlainObject(raw) || typeof raw.metric !== 'string' || raw.metric.length === 0) {
    return fail(`'objective' needs a metric and a mode, e.g. { metric: val_accuracy, mode: max }`);
  }
  const mode = raw.mode ?? 'min';
  if (mode !== 'min' && mode !== 'max') return fail(`objective mode must be 'min' or 'max', got ${JSON.stringify(mode)}`);
  const extra = Object.keys(raw).filter((k) => k !== 'metric' && k !== 'mode');
  if (extra.length > 0) fail(`unknown objective key '${extra[0]}'; allowed: metric, mode`);
  return { metric: raw.metric, mode };
}

const STRATEGIES = ['grid', 'random', 'tpe'];

function parseStrategy(raw: unknown, fail: (msg: string) => never): StrategyConfig {
  let name: unknown = raw;
  let options: Record<string, unknown> = {};
  if (isPlainObject(raw) && typeof raw.name === 'string') {
    // The normalised form, { name: tpe, ...options }, as stored in a study file.
    const { name: given, ...rest } = raw;
    name = given;
    options = rest;
  } else if (isPlainObject(raw)) {
    const keys = Object.keys(raw);
    if (keys.length !== 1) return fail(`'strategy' must be a name or { <name>: { options } }`);
    name = keys[0];
    const inner = raw[keys[0]] ?? {};
    if (!isPlainObject(inner)) return fail(`options of strategy '${keys[0]}' must be a mapping`);
    options = inner;
  }
  if (typeof name !== 'string' || !STRATEGIES.includes(name)) {
    return fail(`unknown strategy ${JSON.stringify(name)}; use one of ${STRATEGIES.join(', ')}`);
  }
  if (name !== 'tpe') {
    if (Object.keys(options).length > 0) fail(`strategy '${name}' takes no options`);
    return { name } as StrategyConfig;
  }
  const extra = Object.keys(options).filter((k) => !['startupTrials', 'gamma', 'candidates'].includes(k));
  if (extra.length > 0) fail(`unknown tpe option '${extra[0]}'; allowed: startupTrials, gamma, candidates`);
  const tpe: StrategyConfig = { name: 'tpe' };
  if (options.startupTrials !== undefined) tpe.startupTrials = optionalInt(options.startupTrials, 'tpe.startupTrials', 0, 1, fail);
  if (options.candidates !== undefined) tpe.candidates = optionalInt(options.candidates, 'tpe.candidates', 0, 1, fail);
  if (options.gamma !== undefined) {
    if (typeof options.gamma !== 'number' || !(options.gamma > 0 && options.gamma < 1)) {
      fail(`tpe.gamma must be a number between 0 and 1 (exclusive), got ${JSON.stringify(options.gamma)}`);
    }
    tpe.gamma = options.gamma as number;
  }
  return tpe;
}

const ASHA_KEYS = ['metric', 'mode', 'minEpochs', 'eta', 'maxEpochs', 'minTrialsAtRung'];

function parsePruner(raw: unknown, objective: StudyConfig['objective'], fail: (msg: string) => never): AshaConfig | null {
  if (raw === undefined || raw === null || raw === 'none') return null;
  let options: unknown = {};
  if (raw === 'asha') options = {};
  else if (isPlainObject(raw) && Object.keys(raw).length === 1 && 'asha' in raw) options = raw.asha ?? {};
  else if (isPlainObject(raw) && raw.name === 'asha') options = Object.fromEntries(Object.entries(raw).filter(([k]) => k !== 'name'));
  else return fail(`unknown pruner ${JSON.stringify(raw)}; use none, asha or { asha: { minEpochs, eta, maxEpochs } }`);
  if (!isPlainObject(options)) return fail(`asha options must be a mapping`);
  const extra = Object.keys(options).filter((k) => !ASHA_KEYS.includes(k));
  if (extra.length > 0) fail(`unknown asha option '${extra[0]}'; allowed: ${ASHA_KEYS.join(', ')}`);
  if (options.metric !== undefined && typeof options.metric !== 'string') fail(`asha.metric must be a string`);
  const eta = options.eta ?? 3;
  if (typeof eta !== 'number' || !(eta > 1)) fail(`asha.eta must be a number greater than 1, got ${JSON.stringify(eta)}`);
  const mode = options.mode ?? objective.mode;
  if (mode !== 'min' && mode !== 'max') fail(`asha.mode must be 'min' or 'max', got ${JSON.stringify(mode)}`);
  const asha: AshaConfig = {
    name: 'asha',
    metric: (options.metric as string | undefined) ?? objective.metric,
    mode: mode as ObjectiveMode,
    minEpochs: optionalInt(options.minEpochs, 'asha.minEpochs', 1, 1, fail),
    eta: eta as number,
    minTrialsAtRung: optionalInt(options.minTrialsAtRung, 'asha.minTrialsAtRung', 1, 1, fail),
  };
  if (options.maxEpochs !== undefined) asha.maxEpochs = optionalInt(options.maxEpochs, 'asha.maxEpochs', 0, 1, fail);
  return asha;
}

function optionalInt(raw: unknown, key: string, fallback: number, min: number, fail: (msg: string) => never): number {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min) {
    return fail(`'${key}' must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  }
  return raw;
}
