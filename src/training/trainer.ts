import { join } from 'node:path';
import { Tensor } from '../runtime/onnxruntime.js';
import { RegraftError } from '../errors.js';
import type { Model } from '../ir/model.js';
import { loadModel, modelToBytes } from '../model-io.js';
import { insertDropout } from '../passes/insert-dropout.js';
import { createSession, startExecutionProvider, type Session, type SessionOptions } from '../runtime/session.js';
import { compileEvalModel, compileTrainStep, type TrainStep } from '../compile/compile.js';
import { feedableStep, type NamedTensor } from '../compile/step-io.js';
import { stepPlacementNotice } from '../check/cuda-placement.js';
import { withTiedCopies } from '../compile/tied-weights.js';
import { describeDecay } from '../compile/parameter-choice.js';
import { parameterSelection } from '../passes/add-penalty.js';
import { recurrenceLengthDims } from '../passes/decompose-rnn.js';
import type { FixedDims } from '../passes/fix-input-dims.js';
import { StepRunner, stepModels } from './step-runner.js';
import { STEP_SESSION_OPTIONS, StepSessions } from './step-sessions.js';
import { stepsPerRun } from './steps-per-run.js';
import type { TrainConfig } from './config.js';
import { learningRate } from './schedule.js';
import { prepareData, type GivenArrays, type PreparedData } from './prepare-data.js';
import { namedArrays, type ArrayInput, type NamedArrays } from '../data/index.js';
import { batchTensor, evaluateModelData, evaluationLoader } from '../evaluate/array-scores.js';
import type { BatchArray } from '../data/named-batch-loader.js';
import { predictionOutput } from '../evaluate/model-data.js';
import { createRunDir, formatEpoch, openRun, recordEpoch, removeUnstartedRun, RUN_FILES, type EpochMetrics, type OpenedRun, type StepRecord, type TrainerState } from './run-dir.js';
import { DivergenceWatch } from './divergence.js';
import { interruption, RunInterrupted, stopReason, withCheckpoint, type RunPosition } from './run-stop.js';
import { TrainingEvents } from './tensorboard-log.js';
import type { SessionStatus, HParamValue } from '../util/tensorboard/index.js';


export interface TrainHooks {
  /** After every epoch; return 'stop' to end training early (a tuner pruning the trial). */
  onEpoch?(metrics: EpochMetrics): void | 'stop' | Promise<void | 'stop'>;
  /** After every batch, with the running mean loss of the epoch. */
  onBatch?(progress: { epoch: number; epochs: number; batch: number; batches: number; meanLoss: number; samplesPerSec: number }): void;
  /** Plain log lines (epoch summaries, notices). */
  log?(line: string): void;
  /**
   * Once the run directory exists (at once for a resumed run): where the run is, an object the trainer keeps
   * current (epochs checkpointed), for a caller that must say so without waiting for train() (a forced exit).
   */
  onStarted?(position: Readonly<RunPosition>): void;
}

/** A run that is one session of TensorBoard's HParams tab (a tuning trial): its searched values, written at its start. */
export interface HParamsSession {
  hparams: Readonly<Record<string, HParamValue>>;
  groupName: string;
}

export interface TrainResult {
  runDir: string;
  config: TrainConfig;
  metrics: EpochMetrics[];
  /** Epoch (1-based) with the lowest validation loss, or the last epoch without validation. */
  bestEpoch: number;
  stoppedEarly: boolean;
}

/**
 * Trains a model with onnxruntime: compiles the training step once, then for each epoch takes a step session
 * (with Dropout, a new one whose Dropout seeds derive from (seed, epoch), so that an epoch replays exactly after a
 * resume; without random ops, the same one for the whole run), feeds every batch with
 * the parameters the previous step returned, validates, writes metrics and an atomic checkpoint.
 */
export interface TrainOptions {
  /** Continue the run in `out` from its last checkpoint. */
  resume?: boolean;
  /**
   * Stops the run at the next batch boundary: the batch running finishes, the epoch it belongs to is abandoned
   * (it runs again on resume) and no file is left half-written; train() then rejects with a RunInterrupted whose
   * message says where it stopped and which checkpoint holds. Abort with the signal's name
   * (`controller.abort('SIGINT')`) for an exit code of 128 + its number.
   */
  signal?: AbortSignal;
  /** The training data as arrays named after the model's inputs, plus `labels` (instead of the `data` spec). */
  data?: NamedArrays | Record<string, ArrayInput>;
  /** The validation data as named arrays (instead of `valData`). */
  valData?: NamedArrays | Record<string, ArrayInput>;
  /** The run is one session of TensorBoard's HParams tab (a tuning trial): written to its tb/ at start and end. */
  hparams?: HParamsSession;
}

/** Named arrays as given, or built from typed arrays by name. */
function toNamedArrays(a: NamedArrays | Record<string, ArrayInput>, name: string): NamedArrays {
  return 'arrays' in a && a.arrays instanceof Map ? (a as NamedArrays) : namedArrays(a as Record<string, ArrayInput>, name);
}

export async function train(partial: Partial<TrainConfig>, hooks: TrainHooks = {}, opts: TrainOptions = {}): Promise<TrainResult> {
  const log = hooks.log ?? (() => {});
  const resume = opts.resume ?? false;
  const { signal } = opts;
  const given: GivenArrays = { data: opts.data && toNamedArrays(opts.data, 'data'), valData: opts.valData && toNamedArrays(opts.valData, 'valData') };
  // Arrays handed over by the API stand for the data spec: the run's config records their name.
  const withArrays = { ...partial, ...(given.data && { data: given.data.name }), ...(given.valData && { valData: given.valData.name }) };
  const { config, resumed, metrics, steps } = await openRun(withArrays, resume);
  const position: RunPosition = { runDir: config.out, created: resume, epochsDone: resumed?.state.epochsDone ?? 0, epochs: config.epochs };
  const stopIfAsked = (batch?: { index: number; of: number }) => {
    if (signal?.aborted) throw interruption(stopReason(signal), position, batch);
  };

  // The model as trained: the user's model plus Dropout where asked. Saved so `export` starts from exactly it.
  const model = await loadModel(resume ? join(config.out, RUN_FILES.model) : config.model);
  if (!resume && (config.dropoutAfter.length > 0 || config.dropoutAfterNode.length > 0)) {
    const { inserted } = insertDropout(model, { after: config.dropoutAfter, afterNode: config.dropoutAfterNode, ratio: config.dropoutRatio, seed: config.seed });
    log(`inserted ${inserted.length} Dropout (ratio ${config.dropoutRatio}) after ${[...config.dropoutAfter, ...config.dropoutAfterNode].join(', ')}`);
  }
  // The data first: the labels' shape decides which axis of the logits the loss reads as the classes.
  const data = await prepareData(config, model, given);
  // Recorded with the run, so that validation after a resume and the export read the logits the same way.
  if (config.classAxis === undefined && (predictionOutput(model, config.target)?.shape?.length ?? 0) > 2) config.classAxis = data.train.classAxis;
  // Chosen and started once for the whole run, before the step is compiled: the step is compiled for the provider
  // that will run it (a GPU fallback trains CPU's fused loss), the fallback notice is printed once, not per session,
  // and --strict fails before the run directory exists.
  const ep = await startExecutionProvider(config.ep, { strict: config.strict, log });
  const step = compileTrainStep(model, {
    loss: config.loss,
    output: config.target,
    classAxis: data.train.classAxis,
    ignoreIndex: config.ignoreIndex,
    l2: config.l2,
    l1: config.l1,
    penaltyParams: parameterSelection(config.penalize),
    optimizer: { kind: config.optimizer, momentum: config.momentum, nesterov: config.nesterov, weightDecay: config.weightDecay, clipGradNorm: config.clipGradNorm > 0 ? config.clipGradNorm : undefined },
    freeze: config.freeze,
    train: config.train,
    untie: config.untie,
    accumulate: config.accumulate > 1,
    dims: recurrenceLengthsOfData(model, data),
    // On a GPU, a loss its kernels cover.
    provider: ep,
  });
  if (config.l2 > 0 || config.l1 > 0 || config.optimizer === 'adamw') log(describeDecay(step.decayed, step.params, parameterSelection(config.penalize)));
  for (const t of step.tied) log(`tied weights: ${t.copy} is ${t.relation === 'transpose' ? 'the transpose of' : 'a copy of'} ${t.parameter}, trained as one tensor (--untie trains them apart)`);
  // onnxruntime moves each node the CUDA provider has no kernel for to the CPU without a word; say so once.
  const placement = stepPlacementNotice(step.model, ep);
  if (placement) log(placement);
  const sessionOptions: SessionOptions = {
    ep,
    strict: config.strict,
    intraOpThreads: config.threads,
    log,
  };
  // Everything that can fail on bad input has been checked: only now is the run directory written, so a failed
  // start leaves nothing behind that would block the corrected command ("already holds a run").
  stopIfAsked();
  if (!resume) {
    await createRunDir(config, model, step.model).catch(async (err: unknown) => {
      await removeUnstartedRun(config.out);
      throw err;
    });
  }
  position.created = true;
  hooks.onStarted?.(position);
  try {
    return await runEpochs({ config, model, step, data, sessionOptions, resumed, metrics, steps, position, hooks, stopIfAsked, resume, hparams: opts.hparams });
  } catch (err) {
    // A new run that fails before its first checkpoint (a NaN loss, --strict divergence, a full disk) is removed,
    // so the corrected command can use the same --out; a stopped one stays, for --resume.
    if (!resume && position.epochsDone === 0 && !(err instanceof RunInterrupted)) await removeUnstartedRun(config.out);
    throw err;
  }
}

/**
 * The sizes the training data gives the dims the recurrent layers' lengths are made of (`sequence` = 12): only the
 * step is compiled for them (LSTM/GRU/RNN are unrolled over a fixed number of steps); the model that validation,
 * eval and export use keeps them dynamic.
 */
function recurrenceLengthsOfData(model: Model, data: PreparedData): FixedDims | undefined {
  const names = recurrenceLengthDims(model);
  if (names.length === 0) return undefined;
  const dims: Record<string, number> = {};
  for (const name of names) {
    const size = data.train.dims.get(name);
    if (size === undefined) {
      throw new RegraftError(`train: the recurrent layers' sequence length is dim '${name}', which the data '${data.train.arrays.name}' does not give a size (it is the batch dim of every input that has it); export the model with a fixed sequence length`);
    }
    dims[name] = size;
  }
  return dims;
}

interface RunContext {
  config: TrainConfig;
  model: Model;
  step: TrainStep;
  data: PreparedData;
  sessionOptions: SessionOptions;
  resumed: OpenedRun['resumed'];
  metrics: EpochMetrics[];
  /** The optimizer steps of the checkpointed epochs (resume); the new ones are appended. */
  steps: StepRecord[];
  position: RunPosition;
  hooks: TrainHooks;
  stopIfAsked: (batch?: { index: number; of: number }) => void;
  resume: boolean;
  hparams: HParamsSession | undefined;
}

/** The epochs of a run whose directory exists: train, validate, watch for divergence, checkpoint. */
async function runEpochs(ctx: RunContext): Promise<TrainResult> {
  const { config, model, step, data, sessionOptions, resumed, metrics, steps, position, hooks, stopIfAsked, resume, hparams } = ctx;
  const log = hooks.log ?? (() => {});
  const models = stepModels(step);
  const carried = new Map<string, Tensor>();
  for (const [name, initial] of models.initial) {
    const t = resumed?.tensors.get(name) ?? initial;
    carried.set(name, new Tensor('float32', t.data, t.dims));
  }
  // Only `carried` holds the starting values from here on: kept in these maps too, they would outlive the first
  // step for the whole run, a second copy of every parameter and optimizer state (128 MiB for ResNet-18 with Adam).
  models.initial.clear();
  resumed?.tensors.clear();
  // The update half of an accumulating step has no Dropout: one session serves the whole run.
  const updateSession = models.update ? await createSession(modelToBytes(models.update), { ...sessionOptions, ...STEP_SESSION_OPTIONS, name: 'update step' }) : undefined;
  const validator = data.val ? await openValidator(model, step, [...carried.keys()], config, data, sessionOptions) : undefined;
  // A CUDA session that failed to start fell back to CPU (and said so): later sessions go straight to CPU.
  if (validator) sessionOptions.ep = validator.session.provider;

  // Several updates per run keep the parameters and state inside onnxruntime between them (compile/scan-steps.ts).
  const perRun = stepsPerRun(config.stepsPerRun, step, models.step, carried);
  const scan = perRun > 1 ? { carried: step.carried, perStep: [...data.train.inputs, step.labels, step.lr!], loss: step.loss } : undefined;
  const stepSessions = new StepSessions(models.step, config.seed, sessionOptions, scan);

  const state: TrainerState = resumed?.state ?? { epochsDone: 0, bestValLoss: null, bestEpoch: 0, staleEpochs: 0 };
  if (resume) log(`resuming ${config.out} after epoch ${state.epochsDone} of ${config.epochs}`);
  // Every epoch has the same number of updates, so the checkpoint's last step follows from its epoch count; a
  // resumed run cuts its event files back to it (the epoch after the checkpoint runs again).
  const updatesPerEpoch = Math.ceil(data.loader.batchesPerEpoch / config.accumulate);
  let events: TrainingEvents | undefined;
  try {
    events = config.tensorboard ? TrainingEvents.open(config.out, resume ? state.epochsDone * updatesPerEpoch : undefined) : undefined;
    if (events && hparams) events.sessionStart(hparams);
  } catch (err) {
    events?.close();
    await validator?.session.release();
    await updateSession?.release();
    throw withCheckpoint(err, position);
  }
  const divergence = new DivergenceWatch(metrics);
  let warnedDivergence = false;
  let stoppedEarly = false;
  let status: SessionStatus = 'failure';
  try {
    for (let epoch = state.epochsDone; epoch < config.epochs; epoch++) {
      stopIfAsked();
      const m = await trainEpoch({ config, step, updateSession, data, carried, epoch, sessionOptions, stepSessions, hooks, divergence, stopIfAsked, steps, events, updatesPerEpoch, stepsPerRun: perRun });
      if (validator) Object.assign(m, await validator.run(carried));
      const diverging = divergence.check(m.epoch, m.train_loss, m.lr);
      // Under --strict the diverged epoch is not recorded: the checkpoints keep the weights from before it.
      if (diverging && config.strict) throw new RegraftError(`train: ${diverging}; stopped by --strict before epoch ${m.epoch}'s checkpoint`);
      metrics.push(m);
      events?.epoch(m.step, m);
      log(formatEpoch(m, config.epochs));
      if (diverging && !warnedDivergence) log(`warning: ${diverging}; --strict makes this an error`);
      warnedDivergence ||= diverging !== undefined;

      const improved = m.val_loss === undefined || state.bestValLoss === null || m.val_loss < state.bestValLoss;
      state.epochsDone = epoch + 1;
      if (improved) Object.assign(state, { bestValLoss: m.val_loss ?? null, bestEpoch: epoch + 1, staleEpochs: 0 });
      else state.staleEpochs++;
      // Tied copies are written next to their parameter, so that checkpoints and the export hold both, equal.
      await recordEpoch(config.out, metrics, steps, withTiedCopies(tensorsOf(carried), step.tied), state, improved);
      position.epochsDone = state.epochsDone;

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
    status = 'success';
  } catch (err) {
    // A full disk or a read-only folder while writing the run's files (tb/ included) names the last good checkpoint.
    throw withCheckpoint(err, position);
  } finally {
    try {
      if (events && hparams) events.sessionEnd(status);
    } catch {
      // a session end that cannot be written (a full disk) must not hide the error that ended the run
    }
    events?.close();
    await stepSessions.release();
    await validator?.session.release();
    await updateSession?.release();
  }
  return { runDir: config.out, config, metrics, bestEpoch: state.bestEpoch, stoppedEarly };
}

interface EpochContext {
  config: TrainConfig;
  step: TrainStep;
  updateSession: Session | undefined;
  data: PreparedData;
  /** Parameters and state, updated in place to their values after the epoch. */
  carried: Map<string, Tensor>;
  epoch: number;
  sessionOptions: SessionOptions;
  stepSessions: StepSessions;
  hooks: TrainHooks;
  divergence: DivergenceWatch;
  /** Throws when a stop was asked for; called before each batch but the first, with the batches done. */
  stopIfAsked(batch: { index: number; of: number }): void;
  /** The run's optimizer steps so far; the epoch's are appended. */
  steps: StepRecord[];
  events: TrainingEvents | undefined;
  updatesPerEpoch: number;
  /** Optimizer updates per onnxruntime run: above 1 the step session runs the scan-steps model. */
  stepsPerRun: number;
}

/**
 * One pass over the training batches, `accumulate` micro-batches per optimizer update (the last update of an epoch
 * may have fewer), or `stepsPerRun` updates per onnxruntime run; every update's parameters and state are fed to
 * the next.
 */
async function trainEpoch(ctx: EpochContext): Promise<EpochMetrics> {
  const { config, step, data, carried, epoch, hooks, updatesPerEpoch, stepsPerRun } = ctx;
  const { loader } = data;
  const fed = [...data.train.inputs];
  const perUpdate = config.accumulate;
  // Recorded as the epoch's rate: the rate of its first update.
  const lr = learningRate(config, epoch, 0, updatesPerEpoch);
  const session = await ctx.stepSessions.forEpoch(epoch);
  ctx.sessionOptions.ep = session.provider;
  const runner = new StepRunner(step, session, ctx.updateSession, carried);
  const perUpdateLr = config.schedule === 'cosine' || config.schedule === 'linear' || config.warmup > 0;
  const rateOf = (update: number) => (perUpdateLr ? learningRate(config, epoch, update / updatesPerEpoch, updatesPerEpoch) : lr);
  const sizeOf = (b: number) => Math.min(loader.batchSize, loader.numSamples - b * loader.batchSize);
  const feedsOf = (arrays: Record<string, BatchArray>) => {
    const feeds: Record<string, Tensor> = { [step.labels]: batchTensor(arrays[data.train.labels!]) };
    for (const name of fed) feeds[name] = batchTensor(arrays[name]);
    return feeds;
  };
  const started = performance.now();
  let lossSum = 0;
  let seen = 0;
  let updateLossSum = 0;
  let updateSeen = 0;
  /** Once a batch's loss is known: the checks, the epoch's sums, the update's record and the progress hook. */
  const recordBatch = (index: number, size: number, loss: number, rate: number, update: number, lastOfUpdate: boolean) => {
    if (!Number.isFinite(loss)) {
      throw new RegraftError(`train: loss became ${loss} at epoch ${epoch + 1}, batch ${index + 1}; lower the learning rate (now ${rate})`);
    }
    // The untrained model's loss is the first point the divergence watch compares with.
    if (epoch === 0 && index === 0) ctx.divergence.see(loss, 'the first batch');
    lossSum += loss * size;
    seen += size;
    updateLossSum += loss * size;
    updateSeen += size;
    if (lastOfUpdate) {
      // Steps count updates from 1 across epochs and resumes: the x axis of train/loss and of loss.svg.
      const record: StepRecord = { step: epoch * updatesPerEpoch + update + 1, epoch: epoch + 1, loss: updateLossSum / updateSeen, lr: rate };
      ctx.steps.push(record);
      ctx.events?.step(record.step, record.loss, record.lr);
      updateLossSum = 0;
      updateSeen = 0;
    }
    hooks.onBatch?.({ epoch: epoch + 1, epochs: config.epochs, batch: index + 1, batches: loader.batchesPerEpoch, meanLoss: lossSum / seen, samplesPerSec: seen / ((performance.now() - started) / 1000) });
  };
  try {
    if (stepsPerRun > 1) {
      // One update per batch, several batches per run.
      for (const run of loader.stackedBatches(epoch, stepsPerRun)) {
        if (run.index > 0) ctx.stopIfAsked({ index: run.index, of: loader.batchesPerEpoch });
        const rates = Array.from({ length: run.count }, (_, k) => rateOf(run.index + k));
        const losses = await runner.runSteps(feedsOf(run.arrays), Float32Array.from(rates));
        for (let k = 0; k < run.count; k++) recordBatch(run.index + k, run.size, losses[k], rates[k], run.index + k, true);
      }
    } else {
      for (const batch of loader.batches(epoch)) {
        if (batch.index > 0) ctx.stopIfAsked({ index: batch.index, of: loader.batchesPerEpoch });
        const update = Math.floor(batch.index / perUpdate);
        const first = update * perUpdate;
        const last = Math.min(first + perUpdate, loader.batchesPerEpoch) - 1;
        let samples = 0;
        for (let b = first; b <= last; b++) samples += sizeOf(b);
        const rate = rateOf(update);
        const loss = await runner.run({ feeds: feedsOf(batch.arrays), weight: batch.size / samples, last: batch.index === last, lr: rate });
        recordBatch(batch.index, batch.size, loss, rate, update, batch.index === last);
      }
    }
  } finally {
    await ctx.stepSessions.endEpoch();
  }
  const seconds = (performance.now() - started) / 1000;
  return { epoch: epoch + 1, step: (epoch + 1) * updatesPerEpoch, train_loss: lossSum / seen, lr, samples_per_sec: seen / seconds, seconds };
}

/** Validation on the eval model (inference form), fed the current parameters and BatchNormalization statistics. */
async function openValidator(model: Model, step: TrainStep, carriedNames: readonly string[], config: TrainConfig, data: PreparedData, options: SessionOptions) {
  const evalModel = compileEvalModel(model, { loss: config.loss, withLoss: false, classAxis: data.train.classAxis, ignoreIndex: config.ignoreIndex });
  // Optimizer state is carried too but the eval model does not read it; tied copies are derived from their parameter.
  const fed = [...carriedNames, ...step.tied.map((t) => t.copy)].filter((n) => evalModel.model.graph.value(n)?.initializer);
  const evalOptions = { outputName: config.target ?? evalModel.outputs[0], indices: data.valIndices, loss: config.loss, ignoreIndex: config.ignoreIndex };
  // Built once for the run: an evaluation loader never shuffles, so every epoch walks the same validation batches.
  const loader = evaluationLoader(data.val!, evalOptions);
  const session = await createSession(modelToBytes(feedableStep(evalModel.model, fed).model), { ...options, name: 'eval model' });
  return {
    session,
    async run(carried: ReadonlyMap<string, Tensor>): Promise<Pick<EpochMetrics, 'val_loss' | 'val_accuracy' | 'val_mae' | 'val_rmse'>> {
      const current = withTiedCopies(tensorsOf(carried), step.tied);
      const extraFeeds = Object.fromEntries(fed.map((n) => [n, new Tensor('float32', current.get(n)!.data, current.get(n)!.dims)]));
      const v = await evaluateModelData(session, data.val!, { ...evalOptions, extraFeeds }, loader);
      // Classification always reports an accuracy; regression an accuracy for bce-logits, mae and rmse otherwise.
      const m = v.metrics;
      return {
        val_loss: m.loss,
        ...(m.accuracy !== undefined && { val_accuracy: m.accuracy }),
        ...('mae' in m && m.mae !== undefined && { val_mae: m.mae }),
        ...('rmse' in m && m.rmse !== undefined && { val_rmse: m.rmse }),
      };
    },
  };
}

function tensorsOf(carried: ReadonlyMap<string, Tensor>): Map<string, NamedTensor> {
  return new Map([...carried].map(([n, t]) => [n, { data: t.data as Float32Array, dims: [...t.dims] }]));
}
