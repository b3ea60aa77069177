// The one scorer of class logits, against hand-computed numbers: a position's logits are (0, ln 3) or (ln 3, 0), so
// softmax gives 3/4 to the larger and a position costs ln(4/3) when the label is the argmax and ln 4 when not.
import { describe, expect, it } from 'vitest';
import { RegraftError } from '../../src/errors.js';
import { LogitScores, type LogitsLayout } from '../../src/evaluate/logit-scores.js';

const L3 = Math.log(3);
const HIT = Math.log(4 / 3);
const MISS = Math.log(4);
const NAMES = { logits: "output 'y' of model m.onnx", label: 'a sample of toy' };
const labels = (...ys: number[]) => BigInt64Array.from(ys, BigInt);
const rowsOf = (rows: number, classes: number): LogitsLayout => ({ rows, positions: 1, classes, classesOnAxis1: false });

describe('LogitScores', () => {
  it('[N, C]: one position per row, means over the rows, confusion [true][predicted]; float64 logits too', () => {
    const s = new LogitScores();
    // Argmax 1, 0; labels 1 (hit), 1 (miss).
    s.add(Float64Array.of(0, L3, L3, 0), rowsOf(2, 2), labels(1, 1), NAMES);
    const m = s.metrics(2);
    expect(s.counted).toBe(2);
    expect(m).toMatchObject({ samples: 2, accuracy: 0.5, numClasses: 2, confusion: [[0, 0], [1, 1]] });
    expect(m.loss).toBeCloseTo((HIT + MISS) / 2, 12);
  });

  it('classes on axis 1 stride by the positions; the ignore index does not count', () => {
    const s = new LogitScores({ ignoreIndex: -100 });
    // One row, 2 classes, 3 positions: class-0 plane then class-1 plane. Argmax per position: 1, 0, 1.
    s.add(Float32Array.of(0, L3, 0, L3, 0, L3), { rows: 1, positions: 3, classes: 2, classesOnAxis1: true }, labels(1, 1, -100), NAMES);
    expect(s.counted).toBe(2);
    expect(s.metrics(1).loss).toBeCloseTo((HIT + MISS) / 2, 6);
    expect(s.metrics(1).accuracy).toBe(0.5);
  });

  it('causal: position p is scored against label p + 1 and the last position not at all', () => {
    const s = new LogitScores({ causal: true });
    // Argmax per position 1, 0, (1); labels 0, 1, 0: position 0 -> 1 (hit), 1 -> 0 (hit).
    s.add(Float32Array.of(0, L3, L3, 0, 0, L3), { rows: 1, positions: 3, classes: 2, classesOnAxis1: false }, labels(0, 1, 0), NAMES);
    expect(s.counted).toBe(2);
    expect(s.metrics(1).accuracy).toBe(1);
  });

  it('keeps no confusion matrix for logits wider than maxConfusionClasses', () => {
    const s = new LogitScores({ maxConfusionClasses: 1 });
    s.add(Float32Array.of(0, L3), rowsOf(1, 2), labels(1), NAMES);
    expect(s.metrics(1).confusion).toEqual([]);
    expect(s.metrics(1).numClasses).toBe(2);
  });

  it('refuses a label outside the classes and logits that change width, naming both', () => {
    const s = new LogitScores();
    expect(() => s.add(Float32Array.of(0, L3), rowsOf(1, 2), labels(2), NAMES)).toThrow(RegraftError);
    expect(() => s.add(Float32Array.of(0, L3), rowsOf(1, 2), labels(-1), NAMES)).toThrow(/a sample of toy has label -1 but output 'y' of model m\.onnx has only 2 classes/);
    expect(() => s.add(Float32Array.of(0, L3, 0), rowsOf(1, 3), labels(0), NAMES)).toThrow(/output 'y' of model m\.onnx changed width from 2 to 3 between batches/);
  });
});
