/**
 * Evaluation of a model trained with a regression loss (mse, mse-half, l1, bce-logits): run it over a dataset of
 * float targets in batches and score its predictions in JS, in float64, with the same definitions as the training
 * losses (compile/losses.ts), so validation and `regraft eval --loss` report the number training minimizes.
 */
import { fitTargetShape, type Dataset } from '../data/index.js';
import { RegraftError } from '../errors.js';
import type { Value } from '../ir/value.js';
import type { Session } from '../runtime/index.js';
import { evaluateInBatches, type EvalOptions } from './batches.js';
import { withFileEvaluation, type ModelFile } from './file.js';
import type { RegressionLoss } from '../compile/losses.js';

export interface RegressionMetrics {
  samples: number;
  lossKind: RegressionLoss;
  /** The loss as training defines it: a mean over every target element. */
  loss: number;
  /** mse, mse-half and l1: mean absolute error and root mean squared error of the predictions. */
  mae?: number;
  rmse?: number;
  /** bce-logits: fraction of target elements on the right side (logit > 0 where target >= 0.5). */
  accuracy?: number;
}

export interface TargetEvalOptions extends EvalOptions {
  loss: RegressionLoss;
  /** Dims of one sample's target as the output has them (from fitTargetShape). */
  targetDims: number[];
}

/** Runs `session` over `ds` (or the samples in `opts.indices`) and scores the predictions against the targets. */
export async function evaluateTargets(session: Session, ds: Dataset, opts: TargetEvalOptions): Promise<RegressionMetrics> {
  if (!ds.targets) throw new RegraftError(`data '${ds.name}' holds class labels; a ${opts.loss} evaluation needs float targets`);
  const sums = { loss: 0, abs: 0, square: 0, hits: 0, elements: 0 };
  const count = await evaluateInBatches(session, ds, opts, (prediction, batch) => {
    const targets = batch.targets!;
    if (prediction.data.length !== targets.length || !(prediction.data instanceof Float32Array)) {
      throw new RegraftError(
        `output '${opts.outputName}' of model ${session.name} is ${prediction.type} [${prediction.dims.join(',')}] but the targets of the batch are float32 [${batch.targetDims!.join(',')}]; evaluate an output shaped like the targets`,
      );
    }
    addElements(sums, prediction.data, targets, opts.loss);
  });
  return regressionResult(sums, count, opts.loss);
}

/** Running sums of a regression evaluation, over every target element. */
export interface ElementSums {
  loss: number;
  abs: number;
  square: number;
  hits: number;
  elements: number;
}

/** The metrics of `samples` samples whose elements were summed into `sums`. */
export function regressionResult(sums: ElementSums, samples: number, kind: RegressionLoss): RegressionMetrics {
  const mean = (x: number) => x / sums.elements;
  const base = { samples, lossKind: kind, loss: mean(sums.loss) };
  if (kind === 'bce-logits') return { ...base, accuracy: mean(sums.hits) };
  return { ...base, mae: mean(sums.abs), rmse: Math.sqrt(mean(sums.square)) };
}

/** Adds the elements of one batch's prediction `y` against its targets `t`. */
export function addElements(sums: ElementSums, y: Float32Array, t: Float32Array, kind: RegressionLoss): void {
  for (let i = 0; i < y.length; i++) {
    const d = y[i] - t[i];
    sums.abs += Math.abs(d);
    sums.square += d * d;
    switch (kind) {
      case 'mse':
        sums.loss += d * d;
        break;
      case 'mse-half':
        sums.loss += 0.5 * d * d;
        break;
      case 'l1':
        sums.loss += Math.abs(d);
        break;
      case 'bce-logits':
        // softplus(y) - y t, with softplus(y) = max(y, 0) + log1p(exp(-|y|)) so that large |y| never overflows.
        sums.loss += Math.max(y[i], 0) + Math.log1p(Math.exp(-Math.abs(y[i]))) - y[i] * t[i];
        if (y[i] > 0 === t[i] >= 0.5) sums.hits++;
        break;
    }
  }
  sums.elements += y.length;
}

export interface TargetEvalFileOptions {
  loss: RegressionLoss;
  batchSize?: number;
  /** The output the loss reads (default the model's first output). */
  output?: string;
}

/** Loads a model file and a data spec of float targets, fits both to the model and evaluates on CPU. */
export async function evaluateTargetsFile(file: string | ModelFile, dataSpec: string, opts: TargetEvalFileOptions): Promise<RegressionMetrics> {
  let targetDims: number[] = [];
  const checkData = (ds: Dataset, output: Value) => {
    targetDims = fitTargetShape(ds, output.shape ?? ['N', ...ds.targets!.shape], output.name);
  };
  return withFileEvaluation(file, dataSpec, { output: opts.output, role: 'prediction', targets: 'values', checkData }, (e) =>
    evaluateTargets(e.session, e.ds, { inputName: e.input.name, outputName: e.output.name, sampleDims: e.sampleDims, targetDims, batchSize: opts.batchSize, loss: opts.loss, inputType: e.inputType }),
  );
}
