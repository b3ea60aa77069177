/**
 * Evaluation of data as a model takes it (model-data.ts): every input fed from the array of its name, batch by
 * batch, and the output scored in JS, in float64, by the loss the model trains with. Class labels are scored per
 * position: one per sample for logits [N, C], one per position for [N, C, d1, ...] (classes on axis 1) and [N, T, V]
 * (classes last), next-token pairs for causal-lm (position t's logits against label t + 1); positions labelled with
 * the ignore index do not count, and loss and accuracy are means over the counted positions, as the training loss
 * is (compile/losses.ts). Float targets are scored as regression.ts scores them.
 */
import { isNamedSource, NamedBatchLoader, parseDataSpec, type BatchArray, type NamedArrays } from '../data/index.js';
import { RegraftError } from '../errors.js';
import { Tensor } from '../runtime/onnxruntime.js';
import { createSession, type Session } from '../runtime/index.js';
import type { Model } from '../ir/model.js';
import { modelToBytes } from '../model-io.js';
import { DEFAULT_IGNORE_INDEX, isRegressionLoss, type ClassAxis, type LossKind, type RegressionLoss } from '../compile/losses.js';
import { DEFAULT_EVAL_BATCH_SIZE } from './batches.js';
import type { EvalMetrics } from './classification.js';
import { LogitScores } from './logit-scores.js';
import { addElements, regressionResult, type RegressionMetrics } from './regression.js';
import { openModelFile, type ModelFile } from './file.js';
import { loadModelData, type ModelData } from './model-data.js';

/** Widest logits whose confusion matrix is kept (a vocabulary's would not fit in memory or on a screen). */
export const MAX_CONFUSION_CLASSES = 256;

export interface ArrayEvalOptions {
  loss: LossKind;
  /** The output the loss reads. */
  outputName: string;
  /** Rows per run (default 1000). */
  batchSize?: number;
  /** Evaluate only these rows (the validation side of a split), in this order. */
  indices?: ArrayLike<number>;
  /** Further feeds for every run, e.g. the current parameters of a model being trained. */
  extraFeeds?: Record<string, Tensor>;
  ignoreIndex?: number;
}

export type ArrayEvaluation = { kind: 'classification'; metrics: EvalMetrics } | { kind: 'regression'; metrics: RegressionMetrics };

/** onnxruntime's tensor over a batch array (no copy). */
export function batchTensor(a: BatchArray): Tensor {
  return new Tensor(a.type, a.data as Float32Array, a.dims);
}

/** The name of the labels array of `data`; data loaded without labels cannot be scored. */
function labelsOf(data: ModelData): string {
  if (!data.labels) throw new RegraftError(`nothing to score: ${data.arrays.name} was loaded without labels`);
  return data.labels;
}

/**
 * The batches an evaluation of `data` walks: its inputs and labels for the rows in `opts.indices` (default all), in
 * that order. It never shuffles, so every epoch gives the same batches and one loader can serve every evaluation
 * of the same rows (the trainer's validation builds one per run).
 */
export function evaluationLoader(data: ModelData, opts: Pick<ArrayEvalOptions, 'batchSize' | 'indices'>): NamedBatchLoader {
  const labels = labelsOf(data);
  const count = opts.indices?.length ?? data.arrays.rows;
  if (count === 0) throw new RegraftError(`nothing to evaluate: no rows of ${data.arrays.name} were selected`);
  return new NamedBatchLoader(data.arrays, {
    batchSize: opts.batchSize ?? DEFAULT_EVAL_BATCH_SIZE,
    seed: 0,
    shuffle: false,
    indices: opts.indices,
    names: [...data.inputs, labels],
  });
}

/**
 * Runs `session` over the rows of `data` and scores output `outputName` against its labels. `loader`, when given, is
 * evaluationLoader's for the same data and options, kept from an earlier evaluation.
 */
export async function evaluateModelData(session: Session, data: ModelData, opts: ArrayEvalOptions, loader = evaluationLoader(data, opts)): Promise<ArrayEvaluation> {
  const labelsName = labelsOf(data);
  const count = loader.numSamples;
  const regression = isRegressionLoss(opts.loss);
  const sums = { loss: 0, abs: 0, square: 0, hits: 0, elements: 0 };
  const scores = new PositionScores(opts.loss === 'causal-lm', data.classAxis ?? -1, opts.ignoreIndex ?? DEFAULT_IGNORE_INDEX, data.arrays.name);
  for (const batch of loader.batches(0)) {
    const feeds: Record<string, Tensor> = { ...opts.extraFeeds };
    for (const name of data.inputs) feeds[name] = batchTensor(batch.arrays[name]);
    const fetched = await session.run(feeds);
    const output = fetched[opts.outputName];
    if (output === undefined) throw new RegraftError(`model ${session.name} has no output '${opts.outputName}'; its outputs are ${session.outputNames.join(', ')}`);
    if (!(output.data instanceof Float32Array)) throw new RegraftError(`output '${opts.outputName}' of model ${session.name} is ${output.type}; the ${opts.loss} loss reads float32`);
    const labels = batch.arrays[labelsName];
    const where = `output '${opts.outputName}' of model ${session.name}`;
    if (regression) {
      if (output.data.length !== labels.data.length) {
        throw new RegraftError(`${where} is [${output.dims.join(', ')}] but the targets of the batch are [${labels.dims.join(', ')}]; evaluate an output shaped like the targets`);
      }
      addElements(sums, output.data, labels.data as Float32Array, opts.loss as RegressionLoss);
    } else {
      scores.add(output.data, output.dims, labels.data as BigInt64Array, labels.dims, where);
    }
  }
  if (regression) return { kind: 'regression', metrics: regressionResult(sums, count, opts.loss as RegressionLoss) };
  return { kind: 'classification', metrics: scores.result(count) };
}

/**
 * Class labels per position, scored by LogitScores: works out where each position's class scores lie from the shapes
 * of logits and labels, and adds what a per-position evaluation reports (positions, causal-lm's perplexity).
 */
class PositionScores {
  private readonly scores: LogitScores;
  private perPosition = false;

  constructor(
    private readonly causal: boolean,
    private readonly classAxis: ClassAxis,
    ignoreIndex: number,
    private readonly dataName: string,
  ) {
    this.scores = new LogitScores({ causal, ignoreIndex, maxConfusionClasses: MAX_CONFUSION_CLASSES });
  }

  add(logits: Float32Array, dims: readonly number[], labels: BigInt64Array, labelDims: readonly number[], where: string): void {
    const rows = labelDims[0];
    const classes = this.classAxis === 1 || dims.length === 2 ? dims[1] : dims[dims.length - 1];
    const positions = labels.length / Math.max(1, rows);
    this.perPosition ||= labelDims.length > 1 || this.causal;
    if (dims[0] !== rows || logits.length !== rows * classes * positions) {
      throw new RegraftError(`${where} has shape [${dims.join(', ')}] for labels [${labelDims.join(', ')}]; it needs one row of ${classes} class scores per labelled position`);
    }
    const layout = { rows, positions, classes, classesOnAxis1: this.classAxis === 1 && dims.length > 2 };
    this.scores.add(logits, layout, labels, { logits: where, label: `a position of ${this.dataName}` });
  }

  result(samples: number): EvalMetrics {
    if (this.scores.counted === 0) throw new RegraftError(`no position of ${this.dataName} counts: every label is the ignore index; label some positions`);
    const metrics = this.scores.metrics(samples);
    return {
      ...metrics,
      ...(this.perPosition && { positions: this.scores.counted }),
      ...(this.causal && { perplexity: Math.exp(metrics.loss) }),
    };
  }
}

export interface ArrayFileEvalOptions {
  loss?: LossKind;
  /** The output to score (default the model's first). */
  output?: string;
  batchSize?: number;
  classAxis?: ClassAxis;
  ignoreIndex?: number;
}

/** Loads a model file and its data (a spec or named arrays), fits the data to every input and scores on CPU. */
export async function evaluateArraysFile(file: string | ModelFile, data: string | NamedArrays, opts: ArrayFileEvalOptions = {}): Promise<ArrayEvaluation> {
  const { path: modelPath, model } = await openModelFile(file);
  const loss = opts.loss ?? 'cross-entropy';
  const outputs = model.graph.outputs;
  const output = opts.output === undefined ? outputs[0] : outputs.find((v) => v.name === opts.output);
  if (output === undefined) {
    throw new RegraftError(`model ${modelPath} has no output '${opts.output ?? ''}' (outputs: ${outputs.map((v) => v.name).join(', ') || 'none'}); pick the one to score with --target`);
  }
  const fitted = await loadModelData(data, model, {
    loss,
    prediction: output,
    predictionWhat: `output '${output.name}' of model ${modelPath}`,
    classAxis: opts.classAxis,
    ignoreIndex: opts.ignoreIndex,
    labels: true,
    where: `model ${modelPath}`,
    modelName: modelPath,
  });
  const session = await createSession(modelToBytes(model), { name: modelPath });
  try {
    return await evaluateModelData(session, fitted, { loss, outputName: output.name, batchSize: opts.batchSize, ignoreIndex: opts.ignoreIndex });
  } finally {
    await session.release();
  }
}

/**
 * Whether a model and its data need evaluateArraysFile: named arrays, several inputs, causal-lm, or logits of rank 3+
 * (labels per position). Everything else is a single-input classifier or regression, scored as it always was.
 */
export function needsNamedEvaluation(model: Model, data: string | NamedArrays, loss: LossKind, output: string | undefined): boolean {
  if (typeof data !== 'string' || isNamedSource(parseDataSpec(data)) || loss === 'causal-lm') return true;
  if (model.graph.inputs.filter((v) => !v.initializer).length > 1) return true;
  const prediction = output === undefined ? model.graph.outputs[0] : model.graph.outputs.find((v) => v.name === output);
  return !isRegressionLoss(loss) && (prediction?.shape?.length ?? 2) > 2;
}
