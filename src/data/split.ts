import { RegraftError } from '../errors.js';
import { Rng } from '../util/rng.js';
import type { Dataset } from './dataset.js';

export interface DatasetSplit {
  /** Sample indices, ascending. */
  train: Int32Array;
  /** Sample indices, ascending. */
  val: Int32Array;
}

/**
 * A random train/validation split as index lists (no copy of the data; hand them to BatchLoader's `indices`).
 * The same (size, valFraction, seed) always gives the same split, so a resumed run validates on the same samples.
 */
export function splitDataset(ds: Dataset, valFraction: number, seed: number): DatasetSplit {
  return splitRows(ds.size, ds.name, valFraction, seed);
}

/** The same split of `size` rows (named arrays, or any other sample-major data) called `name` in messages. */
export function splitRows(size: number, name: string, valFraction: number, seed: number): DatasetSplit {
  if (!(valFraction >= 0 && valFraction < 1)) {
    throw new RegraftError(`validation fraction ${valFraction} for ${name} must be in [0, 1)`);
  }
  const valCount = Math.round(size * valFraction);
  if (valFraction > 0 && (valCount === 0 || valCount === size)) {
    throw new RegraftError(`validation fraction ${valFraction} of ${size} samples of ${name} leaves one side empty; use a larger dataset or another fraction`);
  }
  const order = new Int32Array(size);
  for (let i = 0; i < order.length; i++) order[i] = i;
  new Rng(seed).shuffle(order);
  return { train: order.slice(valCount).sort(), val: order.slice(0, valCount).sort() };
}
