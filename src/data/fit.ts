import { RegraftError } from '../errors.js';
import { sampleSize, type Dataset } from './dataset.js';

type Dim = number | string | null;

const isFixed = (d: Dim): d is number => typeof d === 'number' && Number.isInteger(d) && d > 0;
const showDims = (dims: readonly Dim[]): string => `[${dims.map((d) => (d === null ? '?' : String(d))).join(',')}]`;

/**
 * The per-sample dims a model input wants for this dataset: the input's dims without its first (batch) dim, with
 * symbolic dims filled in. MNIST's [28,28] samples fit [N,784] as [784] and ['batch',1,28,28] as [1,28,28]; the
 * data is C order, so a reshape to any dims with the same element count is free.
 *
 * Unknown per-sample dims are resolved as follows: one unknown dim takes whatever the element count leaves; several
 * are taken from the dataset's own sample shape when the ranks agree and every fixed dim matches.
 */
export function fitSampleShape(ds: Dataset, inputDims: readonly Dim[], inputName: string): number[] {
  const per = sampleSize(ds);
  const mismatch = (why: string): RegraftError =>
    new RegraftError(
      `data '${ds.name}' has samples of shape ${showDims(ds.sampleShape)} (${per} values) but model input '${inputName}' ` +
        `has shape ${showDims(inputDims)}: ${why}; use data whose samples match the input, or a model that takes them`,
    );
  if (inputDims.length === 0) throw mismatch('the input has no batch dim');
  const wanted = inputDims.slice(1);
  const unknown = wanted.map((d, i) => (isFixed(d) ? -1 : i)).filter((i) => i >= 0);
  const knownProduct = wanted.reduce<number>((n, d) => (isFixed(d) ? n * d : n), 1);

  if (unknown.length === 0) {
    if (knownProduct !== per) throw mismatch(`${knownProduct} values per sample`);
    return wanted as number[];
  }
  if (unknown.length === 1) {
    if (per % knownProduct !== 0) throw mismatch(`${per} values do not divide into the fixed dims (${knownProduct} values)`);
    const dims = wanted.map((d) => (isFixed(d) ? d : per / knownProduct));
    return dims;
  }
  const sameRank = wanted.length === ds.sampleShape.length;
  if (sameRank && wanted.every((d, i) => !isFixed(d) || d === ds.sampleShape[i])) return [...ds.sampleShape];
  throw mismatch(`${unknown.length} per-sample dims are symbolic and cannot be inferred from the data`);
}
