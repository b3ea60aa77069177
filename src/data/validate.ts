/**
 * Checks of loaded data that no file format enforces: every feature and target a finite number, every class label
 * inside the model's classes. They run at load, so bad data is one line naming the file, the row and the column,
 * before anything is written (not a NaN loss at epoch 1, batch 2, in a run folder that blocks the corrected rerun).
 * Rows of NPY and IDX files are numbered from 0, as numpy indexes them (`x[12]`); CSV files say their line.
 */
import { RegraftError } from '../errors.js';
import { numel } from '../ir/tensor.js';

/** `label 12 is outside the model's 10 classes (0 to 9)`, and what to do. */
export function outsideClasses(label: number, classes: number): string {
  return `label ${label} is outside the model's ${classes} classes (0 to ${classes - 1}); fix the labels, or give the model a head of more classes (regraft head MODEL -o NEW --classes N)`;
}

/**
 * Fails on the first NaN or infinite value, naming its row (sample) and column (its index inside the sample, as
 * coordinates when a sample has more than one dim). `what` is 'features' or 'targets'.
 */
export function checkFinite(values: ArrayLike<number>, sampleShape: readonly number[], path: string, what: 'features' | 'targets'): void {
  for (let i = 0; i < values.length; i++) {
    // x - x is 0 for every finite x and NaN for NaN and the infinities: one test per value.
    if (values[i] - values[i] === 0) continue;
    const per = Math.max(1, numel([...sampleShape]));
    const row = Math.floor(i / per);
    const within = i % per;
    const column = sampleShape.length <= 1 ? `column ${within}` : `position [${coordinates(within, sampleShape).join(', ')}]`;
    throw new RegraftError(`${path}: row ${row}, ${column} is ${values[i]}; ${what} must be finite numbers (fix or drop that row)`);
  }
}

/** Fails on the first label at or beyond `classes`, naming its row. */
export function checkLabelRange(labels: Int32Array, classes: number | undefined, path: string): void {
  if (classes === undefined) return;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= classes) throw new RegraftError(`${path}: row ${i}: ${outsideClasses(labels[i], classes)}`);
  }
}

function coordinates(flat: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  let rest = flat;
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = rest % shape[d];
    rest = Math.floor(rest / shape[d]);
  }
  return out;
}
