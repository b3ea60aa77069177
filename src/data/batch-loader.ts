import { RegraftError } from '../errors.js';
import { numel } from '../ir/tensor.js';
import { LABELS_NAME } from '../training-interface.js';
import { datasetArrays, sampleSize, targetSize, type Dataset } from './dataset.js';
import { NamedBatchLoader } from './named-batch-loader.js';

export interface BatchLoaderOptions {
  batchSize: number;
  /** Seeds the per-epoch shuffles; epoch e's order depends on (seed, e) only. */
  seed: number;
  /** Default true; false walks the samples in `indices` order (evaluation). */
  shuffle?: boolean;
  /** Drop the last batch when it is smaller than batchSize (default false: keep it). */
  dropLast?: boolean;
  /** The samples to draw from, e.g. one side of splitDataset; default all of them. */
  indices?: ArrayLike<number>;
  /** Per-sample dims of the feature tensor, e.g. from fitSampleShape; default the dataset's sampleShape. */
  sampleShape?: number[];
  /** Per-sample dims of the float targets, e.g. from fitTargetShape; default the dataset's target shape. */
  targetShape?: number[];
}

/**
 * One batch, ready to wrap in tensors. Its arrays are views of buffers the loader reuses: the next batch
 * overwrites them, so finish with a batch (await session.run) before taking the next.
 */
export interface Batch {
  epoch: number;
  /** Position of this batch in its epoch, from 0. */
  index: number;
  size: number;
  /** size * prod(sampleShape) values. */
  features: Float32Array;
  /** [size, ...sampleShape] */
  featureDims: number[];
  /**
   * int64 class indices, as onnxruntime wants them for labels: size * prod(labelShape) of them (empty when the
   * dataset holds float targets).
   */
  labels: BigInt64Array;
  /** The float targets of a regression dataset, size * prod(targetShape) values. */
  targets?: Float32Array;
  /** [size, ...targetShape], with `targets`. */
  targetDims?: number[];
}

/**
 * Cuts a dataset (or some of its samples) into batches, reshuffled every epoch, into preallocated buffers: the
 * features and labels of a Dataset batched as two named arrays (named-batch-loader.ts does the work).
 */
export class BatchLoader {
  readonly dataset: Dataset;
  readonly batchSize: number;
  readonly numSamples: number;
  readonly batchesPerEpoch: number;
  readonly sampleShape: number[];
  readonly targetShape: number[] | undefined;
  private readonly loader: NamedBatchLoader;

  constructor(dataset: Dataset, options: BatchLoaderOptions) {
    this.dataset = dataset;
    this.sampleShape = options.sampleShape ?? [...dataset.sampleShape];
    if (numel(this.sampleShape) !== sampleSize(dataset)) {
      throw new RegraftError(
        `sample shape [${this.sampleShape.join(',')}] does not hold the ${sampleSize(dataset)} values of a ${dataset.name} sample; fit it with fitSampleShape`,
      );
    }
    const targets = dataset.targets;
    this.targetShape = targets ? (options.targetShape ?? [...targets.shape]) : undefined;
    if (targets && numel(this.targetShape!) !== targetSize(targets)) {
      throw new RegraftError(
        `target shape [${this.targetShape!.join(',')}] does not hold the ${targetSize(targets)} target values of a ${dataset.name} sample; fit it with fitTargetShape`,
      );
    }
    this.loader = new NamedBatchLoader(datasetArrays(dataset, FEATURES, this.sampleShape, this.targetShape), options);
    this.batchSize = this.loader.batchSize;
    this.numSamples = this.loader.numSamples;
    this.batchesPerEpoch = this.loader.batchesPerEpoch;
  }

  /** The order in which epoch `epoch` visits the samples (a fresh copy). */
  epochOrder(epoch: number): Int32Array {
    return this.loader.epochOrder(epoch);
  }

  /**
   * The batches of one epoch, starting at batch `startBatch` (to resume a run mid-epoch: the batches are exactly
   * those a run from batch 0 would have produced from there on).
   */
  *batches(epoch: number, startBatch = 0): Generator<Batch> {
    const noLabels = new BigInt64Array(0);
    for (const batch of this.loader.batches(epoch, startBatch)) {
      const features = batch.arrays[FEATURES];
      const answers = batch.arrays[LABELS_NAME];
      yield {
        epoch,
        index: batch.index,
        size: batch.size,
        features: features.data as Float32Array,
        featureDims: features.dims,
        labels: this.targetShape ? noLabels : (answers.data as BigInt64Array),
        ...(this.targetShape && { targets: answers.data as Float32Array, targetDims: answers.dims }),
      };
    }
  }
}

/** The array name the features of a Dataset are batched under. */
const FEATURES = 'features';
