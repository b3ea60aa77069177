/**
 * Batches of named arrays: every array's rows for the same samples, in the same order, reshuffled every epoch from
 * (seed, epoch) alone, copied into buffers allocated once. Shuffling moves whole rows, so the ids, the mask and the
 * labels of one sample stay together.
 */
import { RegraftError } from '../errors.js';
import { Rng } from '../util/rng.js';
import { rowSize, type ArrayData, type ArrayType, type NamedArrays } from './named-arrays.js';

export interface NamedBatchLoaderOptions {
  batchSize: number;
  /** Seeds the per-epoch shuffles; epoch e's order depends on (seed, e) only. */
  seed: number;
  /** Default true; false walks the samples in `indices` order (evaluation). */
  shuffle?: boolean;
  /** Drop the last batch when it is smaller than batchSize (default false: keep it). */
  dropLast?: boolean;
  /** The rows to draw from, e.g. one side of a split; default all of them. */
  indices?: ArrayLike<number>;
  /** The arrays to batch (default all). */
  names?: readonly string[];
}

/** One array of a batch: a view of a buffer the loader reuses (finish with it before taking the next batch). */
export interface BatchArray {
  type: ArrayType;
  data: ArrayData;
  /** [size, ...row dims] */
  dims: number[];
}

export interface NamedBatch {
  epoch: number;
  /** Position of this batch in its epoch, from 0. */
  index: number;
  size: number;
  arrays: Record<string, BatchArray>;
}

/** Several batches of one size, back to back: each array's dims are [count, size, ...row dims]. */
export interface StackedBatches {
  epoch: number;
  /** Position of the first batch in its epoch, from 0. */
  index: number;
  /** How many batches are stacked. */
  count: number;
  /** Rows per batch. */
  size: number;
  arrays: Record<string, BatchArray>;
}

/** Mixes seed and epoch into one 32-bit seed, so that every epoch's shuffle can be rebuilt without replaying earlier ones. */
function epochSeed(seed: number, epoch: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul((epoch >>> 0) + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}

interface Column {
  name: string;
  type: ArrayType;
  source: ArrayData;
  per: number;
  rowDims: number[];
  buffer: ArrayData;
}

export class NamedBatchLoader {
  readonly arrays: NamedArrays;
  readonly batchSize: number;
  readonly numSamples: number;
  readonly batchesPerEpoch: number;
  private readonly seed: number;
  private readonly shuffle: boolean;
  private readonly samples: Int32Array;
  private readonly order: Int32Array;
  private readonly columns: Column[];
  /** stackedBatches' buffers, for `per` batches, made at its first call. */
  private stack: { per: number; buffers: ArrayData[] } | undefined;

  constructor(arrays: NamedArrays, options: NamedBatchLoaderOptions) {
    const { batchSize, seed, shuffle = true, dropLast = false } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RegraftError(`batch size ${batchSize} for ${arrays.name} must be a whole number of at least 1`);
    }
    this.arrays = arrays;
    this.batchSize = batchSize;
    this.seed = seed;
    this.shuffle = shuffle;
    this.samples = options.indices === undefined ? identity(arrays.rows) : Int32Array.from(options.indices, (i) => checkedRow(arrays, i));
    this.numSamples = this.samples.length;
    this.batchesPerEpoch = dropLast ? Math.floor(this.numSamples / batchSize) : Math.ceil(this.numSamples / batchSize);
    if (this.batchesPerEpoch === 0) {
      throw new RegraftError(
        `${arrays.name} gives ${this.numSamples} samples, fewer than one batch of ${batchSize} with the last partial batch dropped; use a smaller batch size`,
      );
    }
    this.order = new Int32Array(this.numSamples);
    this.columns = (options.names ?? [...arrays.arrays.keys()]).map((name) => {
      const a = arrays.arrays.get(name);
      if (!a) throw new RegraftError(`${arrays.name} has no array '${name}' (arrays: ${[...arrays.arrays.keys()].join(', ')})`);
      const per = rowSize(a);
      const Ctor = a.data.constructor as new (n: number) => ArrayData;
      return { name, type: a.type, source: a.data, per, rowDims: a.dims.slice(1), buffer: new Ctor(batchSize * per) };
    });
  }

  /** The order in which epoch `epoch` visits the rows (a fresh copy). */
  epochOrder(epoch: number): Int32Array {
    this.fillOrder(epoch);
    return this.order.slice();
  }

  /**
   * The batches of one epoch, starting at batch `startBatch` (to resume a run mid-epoch: the batches are exactly
   * those a run from batch 0 would have produced from there on).
   */
  *batches(epoch: number, startBatch = 0): Generator<NamedBatch> {
    if (!Number.isInteger(startBatch) || startBatch < 0 || startBatch > this.batchesPerEpoch) {
      throw new RegraftError(`cannot start epoch ${epoch} of ${this.arrays.name} at batch ${startBatch}; it has ${this.batchesPerEpoch} batches`);
    }
    this.fillOrder(epoch);
    const buffers = this.columns.map((c) => c.buffer);
    for (let b = startBatch; b < this.batchesPerEpoch; b++) {
      const size = this.sizeOf(b);
      yield { epoch, index: b, size, arrays: this.fillRows(b * this.batchSize, size, buffers, [size]) };
    }
  }

  /**
   * The batches of one epoch, up to `perRun` at a time, stacked along a new first axis: the same batches, rows and
   * order as `batches(epoch)`, for a step that runs several at once (compile/scan-steps.ts). A stack holds batches
   * of one size, so a smaller last batch comes alone.
   */
  *stackedBatches(epoch: number, perRun: number): Generator<StackedBatches> {
    if (!Number.isInteger(perRun) || perRun < 1) throw new RegraftError(`batches per run ${perRun} must be a whole number of at least 1`);
    this.fillOrder(epoch);
    const per = Math.min(perRun, this.batchesPerEpoch);
    if (this.stack?.per !== per) {
      this.stack = { per, buffers: this.columns.map((c) => new (c.buffer.constructor as new (n: number) => ArrayData)(per * this.batchSize * c.per)) };
    }
    const { buffers } = this.stack;
    const fullBatches = Math.floor(this.numSamples / this.batchSize);
    for (let b = 0; b < this.batchesPerEpoch; ) {
      const size = this.sizeOf(b);
      const count = size === this.batchSize ? Math.min(per, fullBatches - b) : 1;
      yield { epoch, index: b, count, size, arrays: this.fillRows(b * this.batchSize, count * size, buffers, [count, size]) };
      b += count;
    }
  }

  private sizeOf(batch: number): number {
    return Math.min(this.batchSize, this.numSamples - batch * this.batchSize);
  }

  /** Copies `rows` rows of the epoch's order from position `start` into the columns' `buffers`, as arrays of dims [...lead, ...row dims]. */
  private fillRows(start: number, rows: number, buffers: readonly ArrayData[], lead: readonly number[]): Record<string, BatchArray> {
    const out: Record<string, BatchArray> = {};
    this.columns.forEach((c, j) => {
      const { source, per } = c;
      const buffer = buffers[j];
      if (per === 1) {
        // One value per row (labels, scalar features): a plain copy, without a subarray view per row.
        for (let k = 0; k < rows; k++) (buffer as Float32Array)[k] = (source as Float32Array)[this.order[start + k]!]!;
      } else {
        for (let k = 0; k < rows; k++) {
          const i = this.order[start + k];
          (buffer as Float32Array).set((source as Float32Array).subarray(i * per, (i + 1) * per), k * per);
        }
      }
      const data = rows * per === buffer.length ? buffer : (buffer.subarray(0, rows * per) as ArrayData);
      out[c.name] = { type: c.type, data, dims: [...lead, ...c.rowDims] };
    });
    return out;
  }

  private fillOrder(epoch: number): void {
    if (!Number.isInteger(epoch) || epoch < 0) throw new RegraftError(`epoch ${epoch} must be a whole number from 0`);
    this.order.set(this.samples);
    if (this.shuffle) new Rng(epochSeed(this.seed, epoch)).shuffle(this.order);
  }
}

function checkedRow(arrays: NamedArrays, i: number): number {
  if (!Number.isInteger(i) || i < 0 || i >= arrays.rows) {
    throw new RegraftError(`sample index ${i} is outside ${arrays.name} (size ${arrays.rows}); use indices in [0, ${arrays.rows})`);
  }
  return i;
}

function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}
