/**
 * Evaluation of a classifier: run the model over a dataset in batches and score its logits against the labels
 * (mean softmax cross-entropy, accuracy, confusion matrix). The scoring is done in JS in float64, so the numbers do
 * not depend on the model having a loss node, and the same code scores a plain model file or a model mid-training
 * (the trainer feeds the current parameters through `extraFeeds`).
 */
import type { Tensor } from '../runtime/onnxruntime.js';
import type { Dataset } from '../data/index.js';
import { RegraftError } from '../errors.js';
import type { Value } from '../ir/value.js';
import type { Session } from '../runtime/index.js';
import { evaluateInBatches, type EvalOptions } from './batches.js';
import { LogitScores, type LogitsLayout } from './logit-scores.js';
import { withFileEvaluation, type ModelFile } from './file.js';

export interface EvalMetrics {
  samples: number;
  /** Mean softmax cross-entropy of the logits against the labels. */
  loss: number;
  /** Fraction of samples (of counted positions, with `positions`) whose largest logit is the label's (first index wins a tie). */
  accuracy: number;
  /** confusion[trueClass][predictedClass] = number of samples. */
  confusion: number[][];
  /** C, the width of the logits. */
  numClasses: number;
  /** Labelled positions that counted (labels per position: [N, T], [N, H, W], causal-lm), which loss and accuracy average over. */
  positions?: number;
  /** causal-lm: exp(loss), the perplexity of the next-token predictions. */
  perplexity?: number;
}

/** Runs `session` over `ds` (or the samples in `opts.indices`) and scores the logits. */
export async function evaluate(session: Session, ds: Dataset, opts: EvalOptions): Promise<EvalMetrics> {
  // Every sample counts: a Dataset's labels have no ignore index, and the confusion matrix is kept at any width.
  const scores = new LogitScores();
  const names = { logits: `output '${opts.outputName}' of model ${session.name}`, label: `a sample of ${ds.name}` };
  const samples = await evaluateInBatches(session, ds, opts, (logits, batch) => {
    const { data, layout } = checkedLogits(logits, batch.size, names.logits, ds);
    scores.add(data, layout, batch.labels, names);
  });
  return scores.metrics(samples);
}

/** The logits of one batch, checked to be float [N, C] with a column for every class of `ds`. */
function checkedLogits(t: Tensor, rows: number, where: string, ds: Dataset): { data: Float32Array | Float64Array; layout: LogitsLayout } {
  if (t.dims.length !== 2 || t.dims[0] !== rows) {
    throw new RegraftError(
      `${where} has shape [${t.dims.join(',')}] for a batch of ${rows}; evaluation needs logits of shape [N, C], one row per sample`,
    );
  }
  if (!(t.data instanceof Float32Array || t.data instanceof Float64Array)) {
    throw new RegraftError(`${where} is ${t.type}, not float logits; evaluate an output that holds class scores`);
  }
  const classes = t.dims[1];
  if (ds.numClasses > classes) {
    throw new RegraftError(
      `data '${ds.name}' has ${ds.numClasses} classes but ${where} has only ${classes} columns; use data with at most ${classes} classes or a model with more outputs`,
    );
  }
  return { data: t.data, layout: { rows, positions: 1, classes, classesOnAxis1: false } };
}

export interface EvalFileOptions {
  batchSize?: number;
  /** The logits output (default the model's first output). */
  output?: string;
}

/**
 * Loads a model file and a data spec, fits the data to the model's declared input shape and evaluates on CPU.
 * The model must have exactly one input to feed (float32, the features) and an [N, C] logits output.
 */
export async function evaluateModelFile(file: string | ModelFile, dataSpec: string, opts: EvalFileOptions = {}): Promise<EvalMetrics> {
  const modelPath = typeof file === 'string' ? file : file.path;
  const checks = {
    checkOutput: (output: Value) => checkLogitsRank(output, modelPath),
    checkData: (ds: Dataset, output: Value) => {
      const declaredClasses = output.shape?.[1];
      if (typeof declaredClasses === 'number' && ds.numClasses > declaredClasses) {
        throw new RegraftError(
          `data '${ds.name}' has ${ds.numClasses} classes but output '${output.name}' of model ${modelPath} has only ${declaredClasses}; use data with at most ${declaredClasses} classes or a model with more outputs`,
        );
      }
    },
  };
  return withFileEvaluation(file, dataSpec, { output: opts.output, role: 'logits', targets: 'classes', ...checks }, (e) =>
    evaluate(e.session, e.ds, { inputName: e.input.name, outputName: e.output.name, sampleDims: e.sampleDims, batchSize: opts.batchSize, inputType: e.inputType }),
  );
}

function checkLogitsRank(output: Value, modelPath: string): void {
  const shape = output.shape;
  if (shape !== undefined && shape.length !== 2) {
    throw new RegraftError(
      `output '${output.name}' of model ${modelPath} has rank ${shape.length} ([${shape.map((d) => d ?? '?').join(',')}]); evaluation needs logits [N, C]; pick another with --target`,
    );
  }
}
