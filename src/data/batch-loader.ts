import { RegraftError } from '../errors.js';
import { Rng } from '../util/rng.js';
import { numel } from '../ir/tensor.js';
import { checkedIndex, sampleSize, targetSize, type Dataset } from './dataset.js';

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
  /** int64 class indices, as onnxruntime wants them for labels (empty when the dataset holds float targets). */
  labels: BigInt64Array;
  /** The float targets of a regression dataset, size * prod(targetShape) values. */
  targets?: Float32Array;
  /** [size, ...targetShape], with `targets`. */
  targetDims?: number[];
}

/** Mixes seed and epoch into one 32-bit seed, so that every epoch's shuffle can be rebuilt without replaying earlier ones. */
function epochSeed(seed: number, epoch: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul((epoch >>> 0) + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}

/** Cuts a dataset (or some of its samples) into batches, reshuffled every epoch, into preallocated buffers. */
export class BatchLoader {
  readonly dataset: Dataset;
  readonly batchSize: number;
  readonly numSamples: number;
  readonly batchesPerEpoch: number;
  readonly sampleShape: number[];
  readonly targetShape: number[] | undefined;
  private readonly seed: number;
  private readonly shuffle: boolean;
  private readonly samples: Int32Array;
  private readonly order: Int32Array;
  private readonly featureBuffer: Float32Array;
  private readonly labelBuffer: BigInt64Array;
  private readonly targetBuffer: Float32Array | undefined;

  constructor(dataset: Dataset, options: BatchLoaderOptions) {
    const { batchSize, seed, shuffle = true, dropLast = false } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RegraftError(`batch size ${batchSize} for ${dataset.name} must be a whole number of at least 1`);
    }
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.seed = seed;
    this.shuffle = shuffle;
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
    this.samples = options.indices === undefined ? identity(dataset.size) : Int32Array.from(options.indices, (i) => checkedIndex(dataset, i));
    this.numSamples = this.samples.length;
    this.batchesPerEpoch = dropLast ? Math.floor(this.numSamples / batchSize) : Math.ceil(this.numSamples / batchSize);
    if (this.batchesPerEpoch === 0) {
      throw new RegraftError(
        `${dataset.name} gives ${this.numSamples} samples, fewer than one batch of ${batchSize} with the last partial batch dropped; use a smaller batch size`,
      );
    }
    this.order = new Int32Array(this.numSamples);
    this.featureBuffer = new Float32Array(batchSize * sampleSize(dataset));
    this.labelBuffer = new BigInt64Array(targets ? 0 : batchSize);
    this.targetBuffer = targets ? new Float32Array(batchSize * targetSize(targets)) : undefined;
  }

  /** The order in which epoch `epoch` visits the samples (a fresh copy). */
  epochOrder(epoch: number): Int32Array {
    this.fillOrder(epoch);
    return this.order.slice();
  }

  /**
   * The batches of one epoch, starting at batch `startBatch` (to resume a run mid-epoch: the batches are exactly
   * those a run from batch 0 would have produced from there on).
   */
  *batches(epoch: number, startBatch = 0): Generator<Batch> {
    if (!Number.isInteger(startBatch) || startBatch < 0 || startBatch > this.batchesPerEpoch) {
      throw new RegraftError(`cannot start epoch ${epoch} of ${this.dataset.name} at batch ${startBatch}; it has ${this.batchesPerEpoch} batches`);
    }
    this.fillOrder(epoch);
    const per = sampleSize(this.dataset);
    const { features, labels, targets } = this.dataset;
    const perTarget = targets ? targetSize(targets) : 0;
    const targetBuffer = this.targetBuffer;
    for (let b = startBatch; b < this.batchesPerEpoch; b++) {
      const start = b * this.batchSize;
      const size = Math.min(this.batchSize, this.numSamples - start);
      for (let k = 0; k < size; k++) {
        const i = this.order[start + k];
        this.featureBuffer.set(features.subarray(i * per, (i + 1) * per), k * per);
        if (targetBuffer) targetBuffer.set(targets!.values.subarray(i * perTarget, (i + 1) * perTarget), k * perTarget);
        else this.labelBuffer[k] = BigInt(labels[i]);
      }
      const full = size === this.batchSize;
      yield {
        epoch,
        index: b,
        size,
        features: full ? this.featureBuffer : this.featureBuffer.subarray(0, size * per),
        featureDims: [size, ...this.sampleShape],
        labels: full ? this.labelBuffer : this.labelBuffer.subarray(0, targetBuffer ? 0 : size),
        ...(targetBuffer && {
          targets: full ? targetBuffer : targetBuffer.subarray(0, size * perTarget),
          targetDims: [size, ...this.targetShape!],
        }),
      };
    }
  }

  private fillOrder(epoch: number): void {
    if (!Number.isInteger(epoch) || epoch < 0) throw new RegraftError(`epoch ${epoch} must be a whole number from 0`);
    this.order.set(this.samples);
    if (this.shuffle) new Rng(epochSeed(this.seed, epoch)).shuffle(this.order);
  }
}

function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}
