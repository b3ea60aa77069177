/**
 * The trainer's data: loaded as the loss wants it (class labels for cross-entropy, float targets for the
 * regression losses), fitted to the model's input and the loss's output, split into training and validation.
 * Every mismatch is found here, before the run directory is written.
 */
import { BatchLoader, fitSampleShape, fitTargetShape, loadDataset, splitDataset, type Dataset } from '../data/index.js';
import { RegraftError } from '../errors.js';
import { DataType } from '../ir/dtype.js';
import type { Model } from '../ir/model.js';
import type { Value } from '../ir/value.js';
import type { TrainStep } from '../compile/compile.js';
import type { TrainConfig } from './config.js';
import { isRegressionLoss } from '../compile/losses.js';
import { checkFeaturesFit, featureTypeOf, type FeatureType } from '../evaluate/feature-input.js';

/** The training data fitted to the model's input, and how it is cut into batches and validation. */
export interface PreparedData {
  inputName: string;
  /** float32, or int64 for an input of ids. */
  inputType: FeatureType;
  sampleDims: number[];
  /** Per-sample dims of the float targets (regression losses only). */
  targetDims?: number[];
  loader: BatchLoader;
  valSet?: Dataset;
  valIndices?: Int32Array;
}

export async function prepareData(config: TrainConfig, model: Model, step: TrainStep): Promise<PreparedData> {
  if (step.dataInputs.length !== 1) {
    throw new RegraftError(`train: the model has ${step.dataInputs.length} data inputs (${step.dataInputs.join(', ')}); regraft trains single-input models`);
  }
  const inputName = step.dataInputs[0];
  const input = model.graph.requireValue(inputName);
  const inputDims = input.shape ?? [];
  const inputType = featureTypeOf(input, 'train');
  // The output the loss reads: the one named, or the first (as compileTrainStep chooses).
  const prediction = config.target ? model.graph.requireValue(config.target, 'model output') : model.graph.outputs[0];
  const targets = isRegressionLoss(config.loss) ? 'values' : 'classes';
  // The class count the logits declare, when static: a label beyond it is refused at load, naming its row.
  const classDim = targets === 'classes' ? prediction?.shape?.[1] : undefined;
  const classes = typeof classDim === 'number' ? classDim : undefined;
  const load = async (spec: string, limit = 0): Promise<{ ds: Dataset; sampleDims: number[]; targetDims?: number[] }> => {
    const ds = await loadDataset(spec, { targets, classes, ...(limit > 0 && { limit }) });
    const sampleDims = fitSampleShape(ds, inputDims, inputName);
    checkFeaturesFit(ds, inputType, inputName);
    if (targets === 'classes') {
      checkClasses(prediction, ds);
      return { ds, sampleDims };
    }
    checkFloatOutput(prediction, config.loss);
    return { ds, sampleDims, targetDims: fitTargetShape(ds, prediction.shape ?? ['N', ...ds.targets!.shape], prediction.name) };
  };

  const { ds: trainSet, sampleDims, targetDims } = await load(config.data, config.limit);
  let valSet: Dataset | undefined;
  let trainIndices: Int32Array | undefined;
  let valIndices: Int32Array | undefined;
  if (config.valData) {
    valSet = (await load(config.valData)).ds;
  } else if (config.valSplit > 0) {
    const split = splitDataset(trainSet, config.valSplit, config.seed);
    trainIndices = split.train;
    valIndices = split.val;
    valSet = trainSet;
  }
  const loader = new BatchLoader(trainSet, { batchSize: config.batchSize, seed: config.seed, indices: trainIndices, sampleShape: sampleDims, targetShape: targetDims });
  return { inputName, inputType, sampleDims, targetDims, loader, valSet, valIndices };
}

function checkClasses(logits: Value | undefined, ds: Dataset): void {
  const classes = logits?.shape?.[1];
  if (logits && typeof classes === 'number' && ds.numClasses > classes) {
    throw new RegraftError(`train: ${ds.name} has labels up to ${ds.numClasses - 1} but output '${logits.name}' has only ${classes} classes`);
  }
  checkFloatOutput(logits, 'cross-entropy');
}

function checkFloatOutput(output: Value | undefined, loss: string): void {
  if (output && output.elemType !== undefined && output.elemType !== DataType.FLOAT) {
    throw new RegraftError(`train: output '${output.name}' is not float; the ${loss} loss needs a float32 prediction`);
  }
}
