/**
 * The trainer's data: loaded as the loss wants it (class labels for cross-entropy and causal-lm, float targets for
 * the regression losses), fitted to the model's inputs and the loss's output (evaluate/model-data.ts), split into
 * training and validation. Every mismatch is found here, before the run directory is written.
 */
import { NamedBatchLoader, splitRows, type NamedArrays } from '../data/index.js';
import type { Model } from '../ir/model.js';
import type { TrainConfig } from './config.js';
import { loadModelData, predictionOutput, type ModelData, type ModelDataOptions } from '../evaluate/model-data.js';

/** The training data fitted to the model's inputs, and how it is cut into batches and validation. */
export interface PreparedData {
  train: ModelData;
  loader: NamedBatchLoader;
  /** The validation data: `val` rows of `train` (a split) or separate data. */
  val?: ModelData;
  valIndices?: Int32Array;
}

/** Data the API hands over as arrays instead of specs. */
export interface GivenArrays {
  data?: NamedArrays;
  valData?: NamedArrays;
}

/**
 * Loads and fits the training (and validation) data. It runs before the step is compiled: the labels' shape decides
 * which axis of the logits holds the classes (`train.classAxis`), which the step's loss is then built for.
 */
export async function prepareData(config: TrainConfig, model: Model, given: GivenArrays = {}): Promise<PreparedData> {
  const options = (limit: number): ModelDataOptions => ({
    loss: config.loss,
    prediction: predictionOutput(model, config.target),
    classAxis: config.classAxis,
    ignoreIndex: config.ignoreIndex,
    labels: true,
    limit,
    where: 'train',
    modelName: config.model,
  });
  const train = await loadModelData(given.data ?? config.data, model, options(config.limit));
  let val: ModelData | undefined;
  let trainIndices: Int32Array | undefined;
  let valIndices: Int32Array | undefined;
  const valSource = given.valData ?? config.valData;
  if (valSource) {
    val = await loadModelData(valSource, model, { ...options(0), classAxis: train.classAxis ?? (config.classAxis) });
  } else if (config.valSplit > 0) {
    const split = splitRows(train.arrays.rows, train.arrays.name, config.valSplit, config.seed);
    trainIndices = split.train;
    valIndices = split.val;
    val = train;
  }
  const loader = new NamedBatchLoader(train.arrays, { batchSize: config.batchSize, seed: config.seed, indices: trainIndices, names: [...train.inputs, train.labels!] });
  return { train, loader, val, valIndices };
}
