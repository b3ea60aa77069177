import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RegraftError } from '../errors.js';
import { floatTensorView } from '../ir/tensor.js';
import type { Model } from '../ir/model.js';
import { assertValid } from '../ir/validate.js';
import { loadModel, saveModel } from '../model-io.js';
import { foldBatchNorm, type FoldedBatchNorm, type SkippedBatchNorm } from '../passes/fold-batchnorm.js';
import { stripTraining } from '../passes/strip-training.js';
import { assertVerified, verifyEquivalent, type VerifyReport } from '../check/equivalence.js';
import { loadCheckpoint } from './checkpoint.js';
import { compileEvalModel } from '../compile/compile.js';
import type { TrainConfig } from './config.js';
import { readRunConfig, RUN_FILES } from './run-dir.js';

/** Ops that must never reach an inference model. */
const TRAINING_ONLY_OPS = new Set(['Dropout', 'SoftmaxCrossEntropyLoss', 'NegativeLogLikelihoodLoss']);

export interface ExportOptions {
  /** Which checkpoint: the best validation loss (default) or the last epoch. */
  checkpoint?: 'best' | 'last';
  /** Fold inference BatchNormalization into the Conv/Gemm/MatMul feeding it (before the check against the eval model). */
  foldBatchNorm?: boolean;
  /** Keep Dropout behind the bool input `mc_dropout` (default false) for Monte-Carlo Dropout. */
  mcDropout?: boolean;
}

export interface ExportReport {
  output: string;
  checkpoint: string;
  epoch: number;
  parameters: number;
  verify: VerifyReport;
  /** Dropout nodes kept behind `mc_dropout` (mcDropout), else 0. */
  keptDropouts: number;
  /** With foldBatchNorm: what was folded, and what was left and why. */
  batchNorm?: { folded: FoldedBatchNorm[]; skipped: SkippedBatchNorm[] };
}

/** The run's model with its trained weights, stripped of everything training-only. In memory; see exportRun. */
export async function trainedInferenceModel(runDir: string, opts: ExportOptions = {}): Promise<{ model: Model; trained: Model; checkpoint: string; epoch: number; parameters: number; config: TrainConfig; batchNorm?: ExportReport['batchNorm'] }> {
  const configPath = join(runDir, RUN_FILES.config);
  if (!existsSync(configPath)) throw new RegraftError(`${runDir}: not a regraft run directory (no ${RUN_FILES.config}); pass the --out directory of 'regraft train'`);
  const config = await readRunConfig(runDir);
  const which = opts.checkpoint ?? 'best';
  const checkpoint = join(runDir, which === 'best' ? RUN_FILES.best : RUN_FILES.last);
  if (!existsSync(checkpoint)) throw new RegraftError(`${runDir}: no ${which} checkpoint yet (${checkpoint}); train at least one epoch`);
  const { tensors, state } = await loadCheckpoint<{ epochsDone: number; bestEpoch: number }>(checkpoint);

  const trained = await loadModel(join(runDir, RUN_FILES.model));
  let parameters = 0;
  for (const [name, t] of tensors) {
    const v = trained.graph.value(name);
    if (!v?.initializer) continue; // optimizer state lives only in the step
    // A view: the checkpoint's values are read here and nowhere else.
    v.initializer = floatTensorView(name, t.data, t.dims);
    parameters++;
  }
  const model = await loadModel(join(runDir, RUN_FILES.model));
  for (const v of trained.graph.initializers) {
    const target = model.graph.value(v.name);
    if (target?.initializer) target.initializer = v.initializer;
  }
  stripTraining(model, { mcDropout: opts.mcDropout });
  const batchNorm = opts.foldBatchNorm ? foldBatchNorm(model) : undefined;
  assertValid(model);
  const leftover = model.graph.nodes.find((n) => TRAINING_ONLY_OPS.has(n.opType) && !(opts.mcDropout && n.opType === 'Dropout'));
  if (leftover) throw new RegraftError(`export: ${leftover.describe()} is still in the inference model; strip could not remove it`);
  return { model, trained, checkpoint, epoch: which === 'best' ? state.bestEpoch : state.epochsDone, parameters, config, batchNorm: batchNorm && { folded: batchNorm.folded, skipped: batchNorm.skipped } };
}

/**
 * `regraft export`: writes the inference model of a run (trained weights, no Dropout or training-only node),
 * after checking in onnxruntime that it computes what the run's eval model computes with the same weights. With
 * mcDropout the Dropout nodes stay behind `mc_dropout`; the check then runs the model as it answers by default
 * (mc_dropout false), so it proves that default equal to the plain inference model.
 */
export async function exportRun(runDir: string, output: string, opts: ExportOptions = {}): Promise<ExportReport> {
  const { model, trained, checkpoint, epoch, parameters, config, batchNorm } = await trainedInferenceModel(runDir, opts);
  const evalModel = compileEvalModel(trained, { loss: config.loss, classAxis: config.classAxis, ignoreIndex: config.ignoreIndex }).model;
  const verify = await verifyEquivalent(evalModel, model, { seed: 1 });
  assertVerified(verify);
  await saveModel(model, output);
  const keptDropouts = model.graph.nodes.filter((n) => n.opType === 'Dropout').length;
  return { output, checkpoint, epoch, parameters, verify, keptDropouts, ...(batchNorm && { batchNorm }) };
}
