import { RegraftError } from '../errors.js';
import { sampleSize, targetSize, type Dataset } from './dataset.js';

type Dim = number | string | null;

const isFixed = (d: Dim): d is number => typeof d === 'number' && Number.isInteger(d) && d > 0;
const values = (n: number): string => `${n} value${n === 1 ? '' : 's'}`;
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
  const fail = (why: string): RegraftError =>
    new RegraftError(
      `data '${ds.name}' has samples of shape ${showDims(ds.sampleShape)} (${values(sampleSize(ds))}) but model input '${inputName}' ` +
        `has shape ${showDims(inputDims)}: ${why}; use data whose samples match the input, or a model that takes them`,
    );
  return fitDims(ds.sampleShape, sampleSize(ds), inputDims, fail);
}

/**
 * The per-sample dims of a regression dataset's float targets as the loss wants them: those of the model output the
 * loss reads (the targets have the prediction's shape), resolved as fitSampleShape resolves features. Targets of
 * shape (N,) fit an output [N, 1] and the other way round.
 */
export function fitTargetShape(ds: Dataset, outputDims: readonly Dim[], outputName: string): number[] {
  const targets = ds.targets;
  if (!targets) throw new RegraftError(`data '${ds.name}' holds class labels, not float targets; load it with targets: 'values'`);
  const fail = (why: string): RegraftError =>
    new RegraftError(
      `data '${ds.name}' has targets of shape ${showDims(targets.shape)} (${values(targetSize(targets))} per sample) but model output ` +
        `'${outputName}' has shape ${showDims(outputDims)}: ${why}; use targets shaped like the output`,
    );
  return fitDims(targets.shape, targetSize(targets), outputDims, fail);
}

/**
 * The per-row dims of named array `source` (rows of `rowShape`) as `dims` (an input's or output's, with its batch
 * dim) want them, resolved as fitSampleShape resolves a dataset's samples.
 */
export function fitRowDims(source: string, rowShape: readonly number[], dims: readonly Dim[], takenBy: string): number[] {
  const per = rowShape.reduce((n, d) => n * d, 1);
  const fail = (why: string): RegraftError =>
    new RegraftError(
      `${source} has rows of shape ${showDims(rowShape)} (${values(per)}) but ${takenBy} has shape ${showDims(dims)}: ${why}; give an array whose rows match it`,
    );
  return fitDims(rowShape, per, dims, fail);
}

function fitDims(own: readonly number[], per: number, dims: readonly Dim[], fail: (why: string) => RegraftError): number[] {
  if (dims.length === 0) throw fail('it has no batch dim');
  const wanted = dims.slice(1);
  const unknown = wanted.map((d, i) => (isFixed(d) ? -1 : i)).filter((i) => i >= 0);
  const knownProduct = wanted.reduce<number>((n, d) => (isFixed(d) ? n * d : n), 1);

  if (unknown.length === 0) {
    if (knownProduct !== per) throw fail(`${values(knownProduct)} per sample`);
    return wanted as number[];
  }
  if (unknown.length === 1) {
    if (per % knownProduct !== 0) throw fail(`${values(per)} do not divide into the fixed dims (${values(knownProduct)})`);
    return wanted.map((d) => (isFixed(d) ? d : per / knownProduct));
  }
  const sameRank = wanted.length === own.length;
  if (sameRank && wanted.every((d, i) => !isFixed(d) || d === own[i])) return [...own];
  throw fail(`${unknown.length} per-sample dims are symbolic and cannot be inferred from the data`);
}
