import { RegraftError } from '../errors.js';
import { numel } from '../ir/tensor.js';

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
  /** Class index of each sample, in [0, numClasses); empty when the dataset holds float `targets` instead. */
  labels: Int32Array;
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

/**
 * The number of classes implied by the labels: max + 1. Labels are class indices, so a negative one is an error
 * (it would index outside the logits).
 */
export function countClasses(labels: Int32Array, source: string): number {
  let max = -1;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
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
    labels: ds.targets ? ds.labels : ds.labels.subarray(0, size),
    numClasses: ds.numClasses,
    ...(ds.targets && { targets: { values: ds.targets.values.subarray(0, size * targetSize(ds.targets)), shape: [...ds.targets.shape] } }),
  };
}

/** A copy of the chosen samples, in the given order (e.g. the validation part of a split, for evaluation). */
export function selectSamples(ds: Dataset, indices: ArrayLike<number>, name = `${ds.name}[subset]`): Dataset {
  const per = sampleSize(ds);
  const features = new Float32Array(indices.length * per);
  const labels = new Int32Array(ds.targets ? 0 : indices.length);
  const perTarget = ds.targets ? targetSize(ds.targets) : 0;
  const targets = ds.targets && { values: new Float32Array(indices.length * perTarget), shape: [...ds.targets.shape] };
  for (let k = 0; k < indices.length; k++) {
    const i = checkedIndex(ds, indices[k]);
    features.set(ds.features.subarray(i * per, (i + 1) * per), k * per);
    if (targets) targets.values.set(ds.targets!.values.subarray(i * perTarget, (i + 1) * perTarget), k * perTarget);
    else labels[k] = ds.labels[i];
  }
  return { name, size: indices.length, sampleShape: [...ds.sampleShape], features, labels, numClasses: ds.numClasses, ...(targets && { targets }) };
}

export function checkedIndex(ds: Dataset, i: number): number {
  if (!Number.isInteger(i) || i < 0 || i >= ds.size) {
    throw new RegraftError(`sample index ${i} is outside ${ds.name} (size ${ds.size}); use indices in [0, ${ds.size})`);
  }
  return i;
}
