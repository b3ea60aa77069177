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
import { renderLossCurveSvg } from './plot.js';

export const RUN_FILES = {
  config: 'config.json',
  model: 'model.onnx',
  step: 'step.onnx',
  metrics: 'metrics.jsonl',
  last: join('checkpoints', 'last.onnx'),
  best: join('checkpoints', 'best.onnx'),
  plot: 'loss.svg',
} as const;

/** One line of metrics.jsonl. */
export interface EpochMetrics {
  epoch: number;
  train_loss: number;
  val_loss?: number;
  val_accuracy?: number;
  lr: number;
  samples_per_sec: number;
  seconds: number;
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
    return { config, metrics: [] };
  }
  const runDir = partial.out ?? '';
  await checkFolderCreatable(runDir, 'a run directory');
  if (!existsSync(join(runDir, RUN_FILES.config))) throw new RegraftError(`${runDir}: no ${RUN_FILES.config} to resume from; start the run without --resume`);
  // What a killed run left half-written goes first.
  await sweepStaleTempFiles(runDir);
  await sweepStaleTempFiles(join(runDir, 'checkpoints'));
  const config = resumedConfig(runDir, await readRunConfig(runDir), partial);
  const resumed = existsSync(join(runDir, RUN_FILES.last)) ? await loadCheckpoint<TrainerState>(join(runDir, RUN_FILES.last)) : undefined;
  const metrics = await readMetrics(join(runDir, RUN_FILES.metrics), resumed?.state.epochsDone ?? 0);
  return { config, resumed, metrics };
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

/** Metrics of the checkpointed epochs; lines of an epoch that ran after the last checkpoint are dropped (it runs again). */
async function readMetrics(path: string, epochs: number): Promise<EpochMetrics[]> {
  const text = existsSync(path) ? await readFile(path, 'utf8') : '';
  const lines = text.split('\n').filter((l) => l.trim() !== '').slice(0, epochs);
  await writeFileAtomic(path, lines.map((l) => l + '\n').join(''));
  return lines.map((l) => JSON.parse(l) as EpochMetrics);
}

/** Starts a run directory: the model as trained, the compiled step, and last the settings, which mark it a run. */
export async function createRunDir(config: TrainConfig, model: Model, step: Model): Promise<void> {
  await makeFolder(config.out, 'a run directory');
  await saveModel(model, join(config.out, RUN_FILES.model));
  await saveModel(step, join(config.out, RUN_FILES.step));
  await writeFileAtomic(join(config.out, RUN_FILES.metrics), '');
  await writeFileAtomic(join(config.out, RUN_FILES.config), JSON.stringify(config, null, 2) + '\n');
}

/**
 * Removes what createRunDir and a first epoch wrote (and nothing else: a folder that held other files keeps them),
 * after a start that failed before any checkpoint, so that the corrected command may use the same --out.
 */
export async function removeUnstartedRun(dir: string): Promise<void> {
  for (const file of Object.values(RUN_FILES)) await rm(join(dir, file), { force: true }).catch(() => undefined);
  await sweepStaleTempFiles(dir);
  for (const folder of [join(dir, 'checkpoints'), dir]) await rmdir(folder).catch(() => undefined);
}

/** Records a finished epoch: its metrics line, the checkpoints (best when it improved) and the plot. */
export async function recordEpoch(
  dir: string,
  metrics: readonly EpochMetrics[],
  tensors: ReadonlyMap<string, NamedTensor>,
  state: TrainerState,
  improved: boolean,
): Promise<void> {
  const metricsPath = join(dir, RUN_FILES.metrics);
  await appendFile(metricsPath, JSON.stringify(metrics[metrics.length - 1]) + '\n').catch((err: unknown) => {
    throw fileSystemError(err, metricsPath, 'write');
  });
  if (improved) await saveCheckpoint(join(dir, RUN_FILES.best), tensors, state);
  await writePlot(dir, metrics);
  // Last: once checkpoints/last.onnx holds the epoch, the epoch is recorded (resume starts after it).
  await saveCheckpoint(join(dir, RUN_FILES.last), tensors, state);
}

async function writePlot(dir: string, metrics: readonly EpochMetrics[]): Promise<void> {
  const series = [{ name: 'train loss', points: metrics.map((m) => ({ x: m.epoch, y: m.train_loss })) }];
  if (metrics.some((m) => m.val_loss !== undefined)) series.push({ name: 'validation loss', points: metrics.map((m) => ({ x: m.epoch, y: m.val_loss ?? NaN })) });
  await writeFileAtomic(join(dir, RUN_FILES.plot), renderLossCurveSvg(series, { title: 'Loss per epoch', xLabel: 'epoch', yLabel: 'loss' }));
}

export function formatEpoch(m: EpochMetrics, epochs: number): string {
  // Regression runs (mse, l1) have a validation loss but no accuracy.
  const accuracy = m.val_accuracy !== undefined ? `, val accuracy ${(100 * m.val_accuracy).toFixed(2)}%` : '';
  const val = m.val_loss !== undefined ? `, val loss ${m.val_loss.toFixed(4)}${accuracy}` : '';
  return `Epoch ${m.epoch}/${epochs}, Loss: ${m.train_loss.toFixed(4)}${val} (lr ${m.lr.toPrecision(3)}, ${Math.round(m.samples_per_sec).toLocaleString('en-US')} samples/s, ${m.seconds.toFixed(1)} s)`;
}
