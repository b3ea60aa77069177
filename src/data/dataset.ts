import { RegraftError } from '../errors.js';
import { numel } from '../ir/tensor.js';
import { LABELS_NAME } from '../training-interface.js';
import type { NamedArrays } from './named-arrays.js';

/**
 * A labelled dataset held in memory, ready to be cut into batches: class labels for classification, or float
 * targets for the regression losses (mse, l1, bce-logits).
 * `features` is sample-major: sample i occupies [i * sampleSize, (i + 1) * sampleSize), C order within a sample.
 */
export interface Dataset {
  /** The spec it was loaded from (or a derived name such as `mnist[:1000]`), used in error messages. */
  name: string;
  size: number;
  /** Dims of one sample, without the batch dim (MNIST: [28, 28]). */
  sampleShape: number[];
  /** size * prod(sampleShape) values; uint8 sources are scaled to [0, 1], other numbers are kept as they are. */
  features: Float32Array;
  /**
   * Class indices, in [0, numClasses) (or the ignore index the data was loaded with): one per sample, or
   * prod(labelShape) per sample (a token or pixel label each); empty when the dataset holds float `targets` instead.
   */
  labels: Int32Array;
  /** Dims of one sample's class labels ([] or absent: one label per sample; [T] for token labels, [H, W], ...). */
  labelShape?: number[];
  /** 0 when the dataset holds float `targets`. */
  numClasses: number;
  /** Float targets (regression): sample i's occupy [i * targetSize, (i + 1) * targetSize), C order. */
  targets?: FloatTargets;
}

export interface FloatTargets {
  values: Float32Array;
  /** Dims of one sample's target, without the batch dim ([] for one number per sample). */
  shape: number[];
}

export function targetSize(targets: FloatTargets): number {
  return numel(targets.shape);
}

export function sampleSize(ds: Dataset): number {
  return numel(ds.sampleShape);
}

/** Labels per sample: prod(labelShape), 1 without one. */
export function labelSize(ds: Dataset): number {
  return numel(ds.labelShape ?? []);
}

/**
 * The number of classes implied by the labels: max + 1. Labels are class indices, so a negative one is an error
 * (it would index outside the logits), except `ignoreIndex` (-100 marks a position that does not count).
 */
export function countClasses(labels: Int32Array, source: string, ignoreIndex?: number): number {
  let max = -1;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (y === ignoreIndex) continue;
    if (y < 0) {
      throw new RegraftError(`label ${y} of sample ${i} in ${source} is negative; labels must be class indices 0, 1, 2, ...`);
    }
    if (y > max) max = y;
  }
  return max + 1;
}

/**
 * The first n samples, sharing memory with `ds` (no copy): for quick tests and smoke runs.
 * numClasses is kept from `ds` because a model's output width does not shrink with the data.
 */
export function subsetDataset(ds: Dataset, n: number): Dataset {
  if (!Number.isInteger(n) || n < 1) {
    throw new RegraftError(`cannot take ${n} samples of ${ds.name}; ask for a whole number of at least 1`);
  }
  const size = Math.min(n, ds.size);
  return {
    name: size === ds.size ? ds.name : `${ds.name}[:${size}]`,
    size,
    sampleShape: [...ds.sampleShape],
    features: ds.features.subarray(0, size * sampleSize(ds)),
    labels: ds.targets ? ds.labels : ds.labels.subarray(0, size * labelSize(ds)),
    ...(ds.labelShape && { labelShape: [...ds.labelShape] }),
    numClasses: ds.numClasses,
    ...(ds.targets && { targets: { values: ds.targets.values.subarray(0, size * targetSize(ds.targets)), shape: [...ds.targets.shape] } }),
  };
}

/** A copy of the chosen samples, in the given order (e.g. the validation part of a split, for evaluation). */
export function selectSamples(ds: Dataset, indices: ArrayLike<number>, name = `${ds.name}[subset]`): Dataset {
  const per = sampleSize(ds);
  const perLabel = labelSize(ds);
  const features = new Float32Array(indices.length * per);
  const labels = new Int32Array(ds.targets ? 0 : indices.length * perLabel);
  const perTarget = ds.targets ? targetSize(ds.targets) : 0;
  const targets = ds.targets && { values: new Float32Array(indices.length * perTarget), shape: [...ds.targets.shape] };
  for (let k = 0; k < indices.length; k++) {
    const i = checkedIndex(ds, indices[k]);
    features.set(ds.features.subarray(i * per, (i + 1) * per), k * per);
    if (targets) targets.values.set(ds.targets!.values.subarray(i * perTarget, (i + 1) * perTarget), k * perTarget);
    else labels.set(ds.labels.subarray(i * perLabel, (i + 1) * perLabel), k * perLabel);
  }
  const labelShape = ds.labelShape && { labelShape: [...ds.labelShape] };
  return { name, size: indices.length, sampleShape: [...ds.sampleShape], features, labels, ...labelShape, numClasses: ds.numClasses, ...(targets && { targets }) };
}

/**
 * A dataset as named arrays: the features, float32 `[size, ...sampleDims]`, under `featureName`, and `labels`
 * (int64 class indices `[size, ...labelShape]`, or the float targets `[size, ...targetDims]`). The features and
 * targets are used, not copied.
 */
export function datasetArrays(ds: Dataset, featureName: string, sampleDims = ds.sampleShape, targetDims = ds.targets?.shape): NamedArrays {
  const features = { type: 'float32' as const, data: ds.features, dims: [ds.size, ...sampleDims], source: ds.name };
  const answers = ds.targets
    ? { type: 'float32' as const, data: ds.targets.values, dims: [ds.size, ...targetDims!], source: ds.name }
    : { type: 'int64' as const, data: BigInt64Array.from(ds.labels, (y) => BigInt(y)), dims: [ds.size, ...(ds.labelShape ?? [])], source: ds.name };
  return { name: ds.name, rows: ds.size, arrays: new Map([[featureName, features], [LABELS_NAME, answers]]) };
}

export function checkedIndex(ds: Dataset, i: number): number {
  if (!Number.isInteger(i) || i < 0 || i >= ds.size) {
    throw new RegraftError(`sample index ${i} is outside ${ds.name} (size ${ds.size}); use indices in [0, ${ds.size})`);
  }
  return i;
}
