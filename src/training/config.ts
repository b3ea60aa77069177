import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { RegraftError } from '../errors.js';
import { DEFAULT_DROPOUT_RATIO, ratioProblem } from '../passes/insert-dropout.js';
import { LOSS_KINDS, type LossKind } from '../compile/losses.js';
import { DEFAULT_MOMENTUM, DEFAULT_OPTIMIZER, DEFAULT_WEIGHT_DECAY, TRAINING_OPTIMIZERS, type OptimizerKind } from '../compile/optimizers.js';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../runtime/execution-provider.js';
import { SCHEDULES, type ScheduleKind } from './schedule.js';

/** Everything `regraft train` takes; a config file (JSON or YAML) holds the same keys. */
export interface TrainConfig {
  /** ONNX model path. */
  model: string;
  /** Data spec: `mnist`, `mnist:test`, `idx:...`, `csv:...`, `npy:...`. */
  data: string;
  /** Validation data spec; default: a `valSplit` fraction of `data`. */
  valData?: string;
  /** The model output the loss reads (default: the first output). */
  target?: string;
  valSplit: number;
  /** Run directory. */
  out: string;
  epochs: number;
  batchSize: number;
  lr: number;
  schedule: ScheduleKind;
  /** Epochs (fractions allowed) over which lr rises linearly to the scheduled rate, step by step; 0 = no warmup. */
  warmup: number;
  /** step schedule: multiply lr by `gamma` every `stepSize` epochs. */
  stepSize: number;
  gamma: number;
  optimizer: OptimizerKind;
  momentum: number;
  nesterov: boolean;
  /** AdamW's decoupled weight decay. */
  weightDecay: number;
  /** Clip the global gradient norm to this before each update (PyTorch's clip_grad_norm_); 0 = no clipping. */
  clipGradNorm: number;
  loss: LossKind;
  l2: number;
  l1: number;
  /**
   * What l2, l1 and AdamW's weightDecay cover: [] or ['default'] (every trained parameter but biases and
   * normalization scales and shifts), ['all'], or initializer-name globs.
   */
  penalize: string[];
  /** Micro-batches of batchSize per optimizer update (gradient accumulation); 1 = none. */
  accumulate: number;
  /** Op types after which Dropout is inserted (e.g. ['Relu']). */
  dropoutAfter: string[];
  /** Node-name globs after whose nodes Dropout is inserted (with or instead of dropoutAfter). */
  dropoutAfterNode: string[];
  dropoutRatio: number;
  freeze: string[];
  /** Globs of initializers to train although they are taken for constants (inspect lists them). */
  train: string[];
  /** Train tied weights (equal or transposed copies) as separate tensors. */
  untie: boolean;
  /** Stop when validation loss has not improved for this many epochs (0: never). */
  patience: number;
  seed: number;
  ep: ExecutionProvider;
  strict: boolean;
  threads: number;
  /** Use at most this many training samples (quick experiments, tests); 0 = all. */
  limit: number;
}

export const DEFAULT_CONFIG: Omit<TrainConfig, 'model' | 'data' | 'out'> = {
  valSplit: 0.1,
  epochs: 10,
  batchSize: 64,
  lr: 0.01,
  schedule: 'constant',
  warmup: 0,
  stepSize: 10,
  gamma: 0.1,
  optimizer: DEFAULT_OPTIMIZER,
  momentum: DEFAULT_MOMENTUM,
  nesterov: false,
  weightDecay: DEFAULT_WEIGHT_DECAY,
  clipGradNorm: 0,
  loss: 'cross-entropy',
  l2: 0,
  l1: 0,
  penalize: [],
  accumulate: 1,
  dropoutAfter: [],
  dropoutAfterNode: [],
  dropoutRatio: DEFAULT_DROPOUT_RATIO,
  freeze: [],
  train: [],
  untie: false,
  patience: 0,
  seed: 0,
  ep: 'cpu',
  strict: false,
  threads: 1,
  limit: 0,
};

// Optional settings without a default (valData, target) are not among DEFAULT_CONFIG's keys, so they are listed here.
const KEYS = new Set<string>(['model', 'data', 'out', 'valData', 'target', ...Object.keys(DEFAULT_CONFIG)]);

/** Reads a JSON or YAML config file holding any TrainConfig keys (unknown keys are an error naming the file). */
export async function readConfigFile(path: string): Promise<Partial<TrainConfig>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new RegraftError(`${path}: cannot read the config file; check the path`);
  }
  let parsed: unknown;
  try {
    parsed = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new RegraftError(`${path}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'} (${(err as Error).message.split('\n')[0]})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new RegraftError(`${path}: expected a mapping of train settings`);
  const settings: Record<string, unknown> = {};
  for (const [written, value] of Object.entries(parsed)) {
    // Flags are kebab-case (--batch-size); a file may spell them either way.
    const key = written.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    if (!KEYS.has(key)) throw new RegraftError(`${path}: unknown setting '${written}'; known: ${[...KEYS].join(', ')}`);
    if (key in settings) throw new RegraftError(`${path}: setting '${key}' is given twice (as '${written}' too); keep one`);
    settings[key] = value;
  }
  return settings as Partial<TrainConfig>;
}

/** Fills defaults and checks every value, naming the setting at fault. */
export function resolveConfig(partial: Partial<TrainConfig>): TrainConfig {
  const c = { ...DEFAULT_CONFIG, ...stripUndefined(partial) } as TrainConfig;
  for (const key of ['model', 'data', 'out'] as const) {
    if (typeof c[key] !== 'string' || c[key] === '') throw new RegraftError(`train: '${key}' is required`);
  }
  const positiveInt = (k: keyof TrainConfig) => {
    const v = c[k] as number;
    if (!Number.isInteger(v) || v < 1) throw new RegraftError(`train: ${k} must be a positive integer, got ${v}`);
  };
  const nonNegative = (k: keyof TrainConfig) => {
    const v = c[k] as number;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RegraftError(`train: ${k} must be a number >= 0, got ${v}`);
  };
  positiveInt('epochs');
  positiveInt('batchSize');
  positiveInt('stepSize');
  positiveInt('threads');
  positiveInt('accumulate');
  for (const k of ['patience', 'limit'] as const) {
    if (!Number.isInteger(c[k])) throw new RegraftError(`train: ${k} must be a whole number >= 0, got ${c[k]}`);
  }
  (['lr', 'l2', 'l1', 'momentum', 'weightDecay', 'clipGradNorm', 'warmup', 'patience', 'gamma', 'limit'] as const).forEach(nonNegative);
  if (!(c.lr > 0)) throw new RegraftError(`train: lr must be > 0, got ${c.lr}`);
  if (!(c.valSplit >= 0 && c.valSplit < 1)) throw new RegraftError(`train: valSplit must be in [0, 1), got ${c.valSplit}`);
  const ratioIssue = ratioProblem(c.dropoutRatio);
  if (ratioIssue) throw new RegraftError(`train: dropoutRatio ${ratioIssue}`);
  if (!Number.isInteger(c.seed)) throw new RegraftError(`train: seed must be an integer, got ${c.seed}`);
  const oneOf = <T extends string>(k: keyof TrainConfig, options: readonly T[]) => {
    if (!options.includes(c[k] as T)) throw new RegraftError(`train: ${k} must be one of ${options.join(', ')}; got '${String(c[k])}'`);
  };
  oneOf('optimizer', TRAINING_OPTIMIZERS);
  oneOf('loss', LOSS_KINDS);
  oneOf('schedule', SCHEDULES);
  oneOf('ep', EXECUTION_PROVIDERS);
  if (typeof c.dropoutAfter === 'string') c.dropoutAfter = (c.dropoutAfter as string).split(',').filter(Boolean);
  for (const k of ['freeze', 'train', 'penalize', 'dropoutAfterNode'] as const) {
    if (typeof c[k] === 'string') c[k] = (c[k] as unknown as string).split(',').filter(Boolean);
  }
  if (typeof c.untie !== 'boolean') throw new RegraftError(`train: untie must be true or false, got ${JSON.stringify(c.untie)}`);
  return c;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
