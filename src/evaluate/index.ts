/**
 * Evaluation by the loss a model trains with: cross-entropy scores logits against class labels (classification.ts),
 * every other loss scores predictions against float targets (regression.ts). `regraft eval`, `train --test` and the
 * trainer's validation all choose between the two here, on a model file or on an open session.
 */
import type { Dataset, NamedArrays } from '../data/index.js';
import { openModelFile } from './file.js';
import { evaluateArraysFile, needsNamedEvaluation, type ArrayFileEvalOptions } from './array-scores.js';
import { isRegressionLoss, type LossKind, type RegressionLoss } from '../compile/losses.js';
import type { Session } from '../runtime/index.js';
import type { EvalOptions } from './batches.js';
import { evaluate, evaluateModelFile, type EvalFileOptions, type EvalMetrics } from './classification.js';
import { evaluateTargets, evaluateTargetsFile, type RegressionMetrics } from './regression.js';

export { DEFAULT_EVAL_BATCH_SIZE, type EvalOptions } from './batches.js';
export type { ModelFile } from './file.js';
export { evaluateArraysFile, evaluateModelData, type ArrayEvalOptions, type ArrayEvaluation, type ArrayFileEvalOptions } from './array-scores.js';
export { CAUSAL_LM_DEFAULT_LABELS, fitModelData, loadModelData, type ModelData, type ModelDataOptions } from './model-data.js';
export { evaluate, evaluateModelFile, type EvalFileOptions, type EvalMetrics } from './classification.js';
export { evaluateTargets, evaluateTargetsFile, type RegressionMetrics, type TargetEvalFileOptions, type TargetEvalOptions } from './regression.js';

/** An evaluation's metrics, tagged with which of the two scorings produced them. */
export type Evaluation = { kind: 'classification'; metrics: EvalMetrics } | { kind: 'regression'; metrics: RegressionMetrics };

/** The one choice between the scorings: regression for a loss that reads float targets, classification otherwise. */
async function byLoss(
  loss: LossKind,
  classification: () => Promise<EvalMetrics>,
  regression: (loss: RegressionLoss) => Promise<RegressionMetrics>,
): Promise<Evaluation> {
  if (isRegressionLoss(loss)) return { kind: 'regression', metrics: await regression(loss) };
  return { kind: 'classification', metrics: await classification() };
}

/**
 * Loads a model file and its data (a spec, or named arrays) and scores the model by `opts.loss` (default
 * cross-entropy), on CPU. Named arrays, models with several inputs, causal-lm and labels per position are scored
 * by array-scores.ts; a single-input classifier or regression model on one feature array as it always was.
 */
export async function evaluateFile(modelPath: string, data: string | NamedArrays, opts: ArrayFileEvalOptions = {}): Promise<Evaluation> {
  // Loaded once: the choice of scoring reads the model, and the scoring is handed the same one.
  const file = await openModelFile(modelPath);
  if (typeof data !== 'string' || needsNamedEvaluation(file.model, data, opts.loss ?? 'cross-entropy', opts.output)) {
    return evaluateArraysFile(file, data, opts);
  }
  const dataSpec = data;
  const common: EvalFileOptions = { batchSize: opts.batchSize, output: opts.output };
  return byLoss(
    opts.loss ?? 'cross-entropy',
    () => evaluateModelFile(file, dataSpec, common),
    (loss) => evaluateTargetsFile(file, dataSpec, { ...common, loss }),
  );
}

/** Scores an open session (e.g. the trainer's eval model, fed the current parameters) by `opts.loss`. */
export function evaluateSession(session: Session, ds: Dataset, opts: EvalOptions & { loss: LossKind; targetDims?: number[] }): Promise<Evaluation> {
  const { loss: _loss, targetDims, ...common } = opts;
  return byLoss(
    opts.loss,
    () => evaluate(session, ds, common),
    (loss) => evaluateTargets(session, ds, { ...common, loss, targetDims: targetDims! }),
  );
}
