import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tensor } from 'onnxruntime-node';
import { loadDataset, BatchLoader, fitSampleShape, splitDataset, type Dataset } from '../data/index.js';
import { RegraftError } from '../errors.js';
import { DataType } from '../ir/dtype.js';
import type { Model } from '../ir/model.js';
import { tensorDims, tensorToFloat32 } from '../ir/tensor.js';
import { loadModel, modelToBytes, saveModel } from '../model-io.js';
import { insertDropout } from '../passes/insert-dropout.js';
import { chooseExecutionProvider } from '../runtime/execution-provider.js';
import { createSession, type Session, type SessionOptions } from '../runtime/session.js';
import { writeFileAtomic } from '../util/write-atomic.js';
import { loadCheckpoint, saveCheckpoint, type NamedTensor } from './checkpoint.js';
import { compileEvalModel, compileTrainStep, type TrainStep } from './compile.js';
import { learningRate, resolveConfig, type TrainConfig } from './config.js';
import { evaluate } from './evaluate.js';
import { renderLossCurveSvg } from './plot.js';
import { cloneModel } from '../ir/clone.js';

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

export interface TrainHooks {
  /** After every epoch; return 'stop' to end training early (a tuner pruning the trial). */
  onEpoch?(metrics: EpochMetrics): void | 'stop' | Promise<void | 'stop'>;
  /** After every batch, with the running mean loss of the epoch. */
  onBatch?(progress: { epoch: number; epochs: number; batch: number; batches: number; meanLoss: number; samplesPerSec: number }): void;
  /** Plain log lines (epoch summaries, notices). */
  log?(line: string): void;
}

export interface TrainResult {
  runDir: string;
  config: TrainConfig;
  metrics: EpochMetrics[];
  /** Epoch (1-based) with the lowest validation loss, or the last epoch without validation. */
  bestEpoch: number;
  stoppedEarly: boolean;
}

/** What a checkpoint's metadata holds besides the tensors. */
interface TrainerState {
  epochsDone: number;
  bestValLoss: number | null;
  bestEpoch: number;
  staleEpochs: number;
}

export const RUN_FILES = {
  config: 'config.json',
  model: 'model.onnx',
  step: 'step.onnx',
  metrics: 'metrics.jsonl',
  last: join('checkpoints', 'last.onnx'),
  best: join('checkpoints', 'best.onnx'),
  plot: 'loss.svg',
} as const;

/**
 * Trains a model with onnxruntime: compiles the training step once, then for each epoch opens a step session
 * whose Dropout seeds derive from (seed, epoch) — so an epoch replays exactly after a resume — feeds every batch with
 * the parameters the previous step returned, validates, writes metrics and an atomic checkpoint.
 */
export async function train(partial: Partial<TrainConfig>, hooks: TrainHooks = {}, opts: { resume?: boolean } = {}): Promise<TrainResult> {
  const log = hooks.log ?? (() => {});
  let config: TrainConfig;
  let resumed: { tensors: Map<string, NamedTensor>; state: TrainerState } | undefined;
  const runDir = partial.out ?? '';
  if (opts.resume) {
    if (!existsSync(join(runDir, RUN_FILES.config))) throw new RegraftError(`${runDir}: no ${RUN_FILES.config} to resume from; start the run without --resume`);
    const stored = await readRunConfig(runDir);
    config = resumedConfig(runDir, stored, partial);
    if (existsSync(join(runDir, RUN_FILES.last))) resumed = await loadCheckpoint<TrainerState>(join(runDir, RUN_FILES.last));
  } else {
    config = resolveConfig(partial);
    if (existsSync(join(config.out, RUN_FILES.config))) {
      throw new RegraftError(`${config.out}: already holds a run; continue it with --resume or choose another --out`);
    }
  }

  // The model as trained: the user's model plus Dropout where asked. Saved so `export` starts from exactly it.
  let model = await loadModel(opts.resume ? join(runDir, RUN_FILES.model) : config.model);
  if (!opts.resume && config.dropoutAfter.length > 0) {
    const { inserted } = insertDropout(model, { after: config.dropoutAfter, ratio: config.dropoutRatio, seed: config.seed });
    log(`inserted ${inserted.length} Dropout (ratio ${config.dropoutRatio}) after ${config.dropoutAfter.join(', ')}`);
  }
  if (config.loss !== 'cross-entropy') {
    throw new RegraftError(`train: --loss ${config.loss} needs float targets, which the data loaders do not provide yet; use --loss cross-entropy (compile supports every loss)`);
  }

  const step = compileTrainStep(model, {
    loss: config.loss,
    l2: config.l2,
    l1: config.l1,
    optimizer: { kind: config.optimizer, momentum: config.momentum, nesterov: config.nesterov, weightDecay: config.weightDecay },
    freeze: config.freeze,
  });
  const evalModel = compileEvalModel(model, { loss: config.loss, withLoss: false });

  // Data, fitted to the model's input shape. Checked before the run directory is written, so a bad --data leaves
  // nothing behind that would block the corrected command ("already holds a run").
  if (step.dataInputs.length !== 1) {
    throw new RegraftError(`train: the model has ${step.dataInputs.length} data inputs (${step.dataInputs.join(', ')}); regraft trains single-input models`);
  }
  const inputName = step.dataInputs[0];
  const inputDims = model.graph.requireValue(inputName).shape ?? [];
  const trainSet = await loadDataset(config.data, config.limit > 0 ? { limit: config.limit } : {});
  const sampleDims = fitSampleShape(trainSet, inputDims, inputName);
  checkClasses(model, trainSet);
  let valSet: Dataset | undefined;
  let trainIndices: Int32Array | undefined;
  let valIndices: Int32Array | undefined;
  if (config.valData) {
    valSet = await loadDataset(config.valData);
    fitSampleShape(valSet, inputDims, inputName);
    checkClasses(model, valSet);
  } else if (config.valSplit > 0) {
    const split = splitDataset(trainSet, config.valSplit, config.seed);
    trainIndices = split.train;
    valIndices = split.val;
    valSet = trainSet;
  }
  const loader = new BatchLoader(trainSet, { batchSize: config.batchSize, seed: config.seed, indices: trainIndices, sampleShape: sampleDims });

  // Chosen once for the whole run: the CUDA fallback notice is printed once, not per session, and --strict fails
  // before the run directory exists.
  const sessionOptions: SessionOptions = {
    ep: chooseExecutionProvider(config.ep, { strict: config.strict, log }),
    strict: config.strict,
    intraOpThreads: config.threads,
    log,
  };

  if (!opts.resume) {
    await mkdir(config.out, { recursive: true });
    await saveModel(model, join(config.out, RUN_FILES.model));
    await saveModel(step.model, join(config.out, RUN_FILES.step));
    await writeFile(join(config.out, RUN_FILES.metrics), '');
    // Written last: config.json marks a run directory (resume and export look for it).
    await writeFileAtomic(join(config.out, RUN_FILES.config), JSON.stringify(config, null, 2) + '\n');
  }

  // Sessions take parameters as plain inputs (onnxruntime-node cannot feed initializers), fed from `carried`.
  const carried = new Map<string, Tensor>();
  const feedable = feedableStep(step);
  for (const [name, t] of feedable.initial) {
    const saved = resumed?.tensors.get(name);
    const source = saved ?? t;
    carried.set(name, new Tensor('float32', source.data, source.dims));
  }
  const evalFeedable = cloneModel(evalModel.model);
  const evalParams = step.carried.map((c) => c.input).filter((n) => evalFeedable.graph.value(n)?.initializer);
  for (const n of evalParams) evalFeedable.graph.initializerToInput(evalFeedable.graph.requireValue(n));
  const evalSession = valSet ? await createSession(modelToBytes(evalFeedable), { ...sessionOptions, name: 'eval model' }) : undefined;
  // A CUDA session that failed to start fell back to CPU (and said so): later sessions go straight to CPU.
  if (evalSession) sessionOptions.ep = evalSession.provider;

  const metrics: EpochMetrics[] = [];
  if (opts.resume) metrics.push(...(await readMetrics(join(runDir, RUN_FILES.metrics), resumed?.state.epochsDone ?? 0)));
  const state: TrainerState = resumed?.state ?? { epochsDone: 0, bestValLoss: null, bestEpoch: 0, staleEpochs: 0 };
  if (opts.resume) log(`resuming ${runDir} after epoch ${state.epochsDone} of ${config.epochs}`);
  let stoppedEarly = false;

  for (let epoch = state.epochsDone; epoch < config.epochs; epoch++) {
    const lr = learningRate(config, epoch);
    const session = await openStepSession(feedable.model, config.seed, epoch, sessionOptions);
    sessionOptions.ep = session.provider;
    const feeds: Record<string, Tensor> = Object.fromEntries(carried);
    if (step.lr) feeds[step.lr] = new Tensor('float32', new Float32Array([lr]), []);
    const started = performance.now();
    let lossSum = 0;
    let seen = 0;
    const perBatchLr = config.schedule === 'cosine' && step.lr !== undefined;
    for (const batch of loader.batches(epoch)) {
      if (perBatchLr) feeds[step.lr!] = new Tensor('float32', new Float32Array([learningRate(config, epoch, batch.index / loader.batchesPerEpoch)]), []);
      feeds[inputName] = new Tensor('float32', batch.features, batch.featureDims);
      feeds[step.labels] = new Tensor('int64', batch.labels, [batch.size]);
      const out = await session.run(feeds);
      const loss = (out[step.loss].data as Float32Array)[0];
      if (!Number.isFinite(loss)) {
        await session.release();
        await evalSession?.release();
        throw new RegraftError(`train: loss became ${loss} at epoch ${epoch + 1}, batch ${batch.index + 1}; lower the learning rate (now ${lr})`);
      }
      for (const c of step.carried) feeds[c.input] = out[c.output];
      lossSum += loss * batch.size;
      seen += batch.size;
      hooks.onBatch?.({ epoch: epoch + 1, epochs: config.epochs, batch: batch.index + 1, batches: loader.batchesPerEpoch, meanLoss: lossSum / seen, samplesPerSec: seen / ((performance.now() - started) / 1000) });
    }
    await session.release();
    const seconds = (performance.now() - started) / 1000;
    for (const c of step.carried) carried.set(c.input, feeds[c.input]);

    const m: EpochMetrics = { epoch: epoch + 1, train_loss: lossSum / seen, lr, samples_per_sec: seen / seconds, seconds };
    if (evalSession && valSet) {
      const extraFeeds = Object.fromEntries(evalParams.map((n) => [n, carried.get(n)!]));
      const v = await evaluate(evalSession, valSet, { inputName, outputName: evalModel.outputs[0], sampleDims, indices: valIndices, extraFeeds });
      m.val_loss = v.loss;
      m.val_accuracy = v.accuracy;
    }
    metrics.push(m);
    log(formatEpoch(m, config.epochs));

    const improved = m.val_loss === undefined || state.bestValLoss === null || m.val_loss < state.bestValLoss;
    state.epochsDone = epoch + 1;
    if (improved) {
      state.bestValLoss = m.val_loss ?? null;
      state.bestEpoch = epoch + 1;
      state.staleEpochs = 0;
    } else {
      state.staleEpochs++;
    }
    const tensors = tensorsOf(carried);
    await appendFile(join(config.out, RUN_FILES.metrics), JSON.stringify(m) + '\n');
    if (improved) await saveCheckpoint(join(config.out, RUN_FILES.best), tensors, state);
    await saveCheckpoint(join(config.out, RUN_FILES.last), tensors, state);
    await writePlot(config.out, metrics);

    if ((await hooks.onEpoch?.(m)) === 'stop') {
      stoppedEarly = true;
      break;
    }
    if (config.patience > 0 && state.staleEpochs >= config.patience) {
      log(`early stopping: validation loss has not improved for ${config.patience} epochs (best at epoch ${state.bestEpoch})`);
      stoppedEarly = true;
      break;
    }
  }
  await evalSession?.release();
  if (metrics.length > 0) await writePlot(config.out, metrics);
  return { runDir: config.out, config, metrics, bestEpoch: state.bestEpoch, stoppedEarly };
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
const RESUME_MAY_CHANGE = new Set<keyof TrainConfig>(['out', 'epochs', 'ep', 'strict', 'threads']);

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
      `${runDir}: ${key} is ${JSON.stringify(after[key])} here but ${JSON.stringify(before[key])} in the run's ${RUN_FILES.config}; a resumed run keeps its settings (only epochs, ep, strict and threads may change), so drop it or start a new run`,
    );
  }
  return after;
}

/** The step model with every carried value turned into a plain input, plus those values' initial tensors. */
function feedableStep(step: TrainStep): { model: Model; initial: Map<string, NamedTensor> } {
  const model = cloneModel(step.model);
  const initial = new Map<string, NamedTensor>();
  for (const { input } of step.carried) {
    const t = model.graph.initializerToInput(model.graph.requireValue(input));
    initial.set(input, { data: tensorToFloat32(t), dims: tensorDims(t) });
  }
  return { model, initial };
}

/** A session of the step whose Dropout seeds are derived from (seed, epoch): the epoch's masks replay exactly. */
async function openStepSession(model: Model, seed: number, epoch: number, options: SessionOptions): Promise<Session> {
  model.graph.nodes
    .filter((n) => n.opType === 'Dropout')
    .forEach((n, i) => n.setAttribute('seed', dropoutSeed(seed, epoch, i)));
  return createSession(modelToBytes(model), { ...options, name: 'train step' });
}

/** A distinct, reproducible seed per (run seed, epoch, Dropout node); positive 31-bit, as Dropout's INT seed. */
function dropoutSeed(seed: number, epoch: number, index: number): number {
  return (Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35)) >>> 1;
}

function tensorsOf(carried: ReadonlyMap<string, Tensor>): Map<string, NamedTensor> {
  return new Map([...carried].map(([n, t]) => [n, { data: t.data as Float32Array, dims: [...t.dims] }]));
}

function checkClasses(model: Model, ds: Dataset): void {
  const logits = model.graph.outputs[0];
  const classes = logits?.shape?.[1];
  if (typeof classes === 'number' && ds.numClasses > classes) {
    throw new RegraftError(`train: ${ds.name} has labels up to ${ds.numClasses - 1} but output '${logits.name}' has only ${classes} classes`);
  }
  if (logits && logits.elemType !== undefined && logits.elemType !== DataType.FLOAT) {
    throw new RegraftError(`train: output '${logits.name}' is not float; cross-entropy needs float logits`);
  }
}

async function readMetrics(path: string, epochs: number): Promise<EpochMetrics[]> {
  const text = existsSync(path) ? await readFile(path, 'utf8') : '';
  const lines = text.split('\n').filter((l) => l.trim() !== '').slice(0, epochs);
  // Drop lines of an epoch that ran after the last checkpoint (it will run again).
  await writeFileAtomic(path, lines.map((l) => l + '\n').join(''));
  return lines.map((l) => JSON.parse(l) as EpochMetrics);
}

export function formatEpoch(m: EpochMetrics, epochs: number): string {
  const val = m.val_loss !== undefined ? `, val loss ${m.val_loss.toFixed(4)}, val accuracy ${(100 * (m.val_accuracy ?? 0)).toFixed(2)}%` : '';
  return `Epoch ${m.epoch}/${epochs}, Loss: ${m.train_loss.toFixed(4)}${val} (lr ${m.lr.toPrecision(3)}, ${Math.round(m.samples_per_sec).toLocaleString('en-US')} samples/s, ${m.seconds.toFixed(1)} s)`;
}

async function writePlot(dir: string, metrics: EpochMetrics[]): Promise<void> {
  const series = [{ name: 'train loss', points: metrics.map((m) => ({ x: m.epoch, y: m.train_loss })) }];
  if (metrics.some((m) => m.val_loss !== undefined)) series.push({ name: 'validation loss', points: metrics.map((m) => ({ x: m.epoch, y: m.val_loss ?? NaN })) });
  await writeFileAtomic(join(dir, RUN_FILES.plot), renderLossCurveSvg(series, { title: 'Loss per epoch', xLabel: 'epoch', yLabel: 'loss' }));
}
