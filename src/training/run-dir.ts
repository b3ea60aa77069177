/**
 * The run directory `regraft train --out` writes, and everything that reads it back (resume, export): which file
 * holds what, the run's settings, metrics.jsonl, checkpoints and the loss plot.
 */
import { existsSync } from 'node:fs';
import { appendFile, readFile, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RegraftError } from '../errors.js';
import type { Model } from '../ir/model.js';
import { saveModel } from '../model-io.js';
import { sweepStaleTempFiles, writeFileAtomic } from '../util/atomic-file.js';
import { checkFolderCreatable, fileSystemError, makeFolder } from '../util/fs-errors.js';
import type { NamedTensor } from '../compile/step-io.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { resolveConfig, TRAIN_SETTING_KEYS, type TrainConfig } from './config.js';
import { TRAIN_SETTINGS } from './config-schema.js';
import { renderLossPlot } from './plot.js';
import { TENSORBOARD_DIR } from './tensorboard-log.js';

export const RUN_FILES = {
  config: 'config.json',
  model: 'model.onnx',
  step: 'step.onnx',
  metrics: 'metrics.jsonl',
  last: join('checkpoints', 'last.onnx'),
  best: join('checkpoints', 'best.onnx'),
  plot: 'loss.svg',
  /** Per optimizer step: the update's training loss and learning rate (what loss.svg draws per step). */
  steps: 'steps.jsonl',
  tensorboard: TENSORBOARD_DIR,
} as const;

/** One line of metrics.jsonl. */
export interface EpochMetrics {
  epoch: number;
  /** The optimizer step that ended the epoch (steps count updates from 1 and go on across epochs and resumes). */
  step: number;
  train_loss: number;
  val_loss?: number;
  val_accuracy?: number;
  /** Regression validation (mse, mse-half, l1): mean absolute error and root mean squared error. */
  val_mae?: number;
  val_rmse?: number;
  lr: number;
  samples_per_sec: number;
  seconds: number;
}

/** One line of steps.jsonl: one optimizer update. */
export interface StepRecord {
  step: number;
  epoch: number;
  /** The update's training loss: the sample-weighted mean over its micro-batches, penalties included. */
  loss: number;
  lr: number;
}

/** What a checkpoint's metadata holds besides the tensors. */
export interface TrainerState {
  epochsDone: number;
  bestValLoss: number | null;
  bestEpoch: number;
  staleEpochs: number;
}

export interface OpenedRun {
  config: TrainConfig;
  /** The last checkpoint of a resumed run (absent when it had not finished an epoch yet). */
  resumed?: { tensors: Map<string, NamedTensor>; state: TrainerState };
  /** Metrics of the epochs already done (resume). */
  metrics: EpochMetrics[];
  /** Their optimizer steps (resume). */
  steps: StepRecord[];
}

/** Settings of a new run, or of the run in `partial.out` to resume (with its checkpoint and metrics). */
export async function openRun(partial: Partial<TrainConfig>, resume: boolean): Promise<OpenedRun> {
  if (!resume) {
    const config = resolveConfig(partial);
    // Before any data is read: a run that could not be written is refused now, not after minutes of loading.
    await checkFolderCreatable(config.out, 'a run directory');
    if (existsSync(join(config.out, RUN_FILES.config))) {
      throw new RegraftError(`${config.out}: already holds a run; continue it with --resume or choose another --out`);
    }
    return { config, metrics: [], steps: [] };
  }
  const runDir = partial.out ?? '';
  await checkFolderCreatable(runDir, 'a run directory');
  if (!existsSync(join(runDir, RUN_FILES.config))) throw new RegraftError(`${runDir}: no ${RUN_FILES.config} to resume from; start the run without --resume`);
  // What a killed run left half-written goes first.
  await sweepStaleTempFiles(runDir);
  await sweepStaleTempFiles(join(runDir, 'checkpoints'));
  const config = resumedConfig(runDir, await readRunConfig(runDir), partial);
  const resumed = existsSync(join(runDir, RUN_FILES.last)) ? await loadCheckpoint<TrainerState>(join(runDir, RUN_FILES.last)) : undefined;
  const epochsDone = resumed?.state.epochsDone ?? 0;
  const metrics = await readJsonLines<EpochMetrics>(join(runDir, RUN_FILES.metrics), (m) => m.epoch <= epochsDone);
  const steps = await readJsonLines<StepRecord>(join(runDir, RUN_FILES.steps), (s) => s.epoch <= epochsDone);
  return { config, resumed, metrics, steps };
}

/** The config.json of a run directory (which must exist), as the run started with it. */
export async function readRunConfig(runDir: string): Promise<TrainConfig> {
  const path = join(runDir, RUN_FILES.config);
  try {
    return JSON.parse(await readFile(path, 'utf8')) as TrainConfig;
  } catch (err) {
    throw new RegraftError(`${path}: cannot read the run's settings (${(err as Error).message.split('\n')[0]}); restore the file or start a new run`);
  }
}

/** Settings a resumed run may change: how long it runs and where, not what it computes per epoch. */
const RESUME_MAY_CHANGE = new Set(TRAIN_SETTING_KEYS.filter((k) => TRAIN_SETTINGS[k].mayChangeOnResume));

/**
 * The config of a resumed run: the stored one, with the settings of RESUME_MAY_CHANGE taken from `partial`. Any
 * other setting given (e.g. the original command repeated with --resume) must match the stored one; a different
 * value is refused rather than silently ignored.
 */
function resumedConfig(runDir: string, stored: TrainConfig, partial: Partial<TrainConfig>): TrainConfig {
  const given = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<TrainConfig>;
  const before = resolveConfig({ ...stored, out: runDir });
  const after = resolveConfig({ ...stored, ...given, out: runDir });
  for (const key of Object.keys(after) as (keyof TrainConfig)[]) {
    if (RESUME_MAY_CHANGE.has(key) || JSON.stringify(after[key]) === JSON.stringify(before[key])) continue;
    throw new RegraftError(
      `${runDir}: ${key} is ${JSON.stringify(after[key])} here but ${JSON.stringify(before[key])} in the run's ${RUN_FILES.config}; a resumed run keeps its settings (only ${andList([...RESUME_MAY_CHANGE].filter((k) => k !== 'out'))} may change), so drop it or start a new run`,
    );
  }
  return after;
}

function andList(words: readonly string[]): string {
  return words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

/**
 * The lines of metrics.jsonl or steps.jsonl that belong to checkpointed epochs; the file is cut back to them (the
 * lines of an epoch that ran after the last checkpoint go: it runs again). A run from before steps.jsonl has none.
 */
async function readJsonLines<T>(path: string, checkpointed: (line: T) => boolean): Promise<T[]> {
  if (!existsSync(path)) return [];
  const text = await readFile(path, 'utf8');
  const lines: string[] = [];
  const records: T[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let record: T;
    try {
      record = JSON.parse(line) as T;
    } catch {
      break; // a line cut short by a crash, and everything after it, is not checkpointed
    }
    if (!checkpointed(record)) break;
    lines.push(line);
    records.push(record);
  }
  await writeFileAtomic(path, lines.map((l) => l + '\n').join(''));
  return records;
}

/** Starts a run directory: the model as trained, the compiled step, and last the settings, which mark it a run. */
export async function createRunDir(config: TrainConfig, model: Model, step: Model): Promise<void> {
  await makeFolder(config.out, 'a run directory');
  await saveModel(model, join(config.out, RUN_FILES.model));
  await saveModel(step, join(config.out, RUN_FILES.step));
  await writeFileAtomic(join(config.out, RUN_FILES.metrics), '');
  await writeFileAtomic(join(config.out, RUN_FILES.steps), '');
  await writeFileAtomic(join(config.out, RUN_FILES.config), JSON.stringify(config, null, 2) + '\n');
}

/**
 * Removes what createRunDir and a first epoch wrote (and nothing else: a folder that held other files keeps them),
 * after a start that failed before any checkpoint, so that the corrected command may use the same --out.
 */
export async function removeUnstartedRun(dir: string): Promise<void> {
  for (const file of Object.values(RUN_FILES)) await rm(join(dir, file), { force: true, recursive: file === RUN_FILES.tensorboard }).catch(() => undefined);
  await sweepStaleTempFiles(dir);
  for (const folder of [join(dir, 'checkpoints'), dir]) await rmdir(folder).catch(() => undefined);
}

/**
 * Records a finished epoch: its metrics line and step lines, the checkpoints (best when it improved) and the plot.
 * `metrics` and `steps` are the whole run's so far, the epoch's own last.
 */
export async function recordEpoch(
  dir: string,
  metrics: readonly EpochMetrics[],
  steps: readonly StepRecord[],
  tensors: ReadonlyMap<string, NamedTensor>,
  state: TrainerState,
  improved: boolean,
): Promise<void> {
  const epoch = metrics[metrics.length - 1];
  const metricsPath = join(dir, RUN_FILES.metrics);
  const stepsPath = join(dir, RUN_FILES.steps);
  await appendFile(metricsPath, JSON.stringify(epoch) + '\n').catch((err: unknown) => {
    throw fileSystemError(err, metricsPath, 'write');
  });
  const epochSteps = steps.filter((s) => s.epoch === epoch.epoch);
  await appendFile(stepsPath, epochSteps.map((s) => JSON.stringify(s) + '\n').join('')).catch((err: unknown) => {
    throw fileSystemError(err, stepsPath, 'write');
  });
  if (improved) await saveCheckpoint(join(dir, RUN_FILES.best), tensors, state);
  await writeFileAtomic(join(dir, RUN_FILES.plot), renderLossPlot(metrics, steps));
  // Last: once checkpoints/last.onnx holds the epoch, the epoch is recorded (resume starts after it).
  await saveCheckpoint(join(dir, RUN_FILES.last), tensors, state);
}

export function formatEpoch(m: EpochMetrics, epochs: number): string {
  // Regression runs (mse, l1) have a validation loss but no accuracy.
  const accuracy = m.val_accuracy !== undefined ? `, val accuracy ${(100 * m.val_accuracy).toFixed(2)}%` : '';
  const val = m.val_loss !== undefined ? `, val loss ${m.val_loss.toFixed(4)}${accuracy}` : '';
  return `Epoch ${m.epoch}/${epochs}, Loss: ${m.train_loss.toFixed(4)}${val} (lr ${m.lr.toPrecision(3)}, ${Math.round(m.samples_per_sec).toLocaleString('en-US')} samples/s, ${m.seconds.toFixed(1)} s)`;
}
