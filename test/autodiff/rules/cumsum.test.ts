import { describe, it } from 'vitest';
import { checkGradients, computeGradients, expectClose, makeOpModel } from '../helpers.js';

describe('CumSum gradient', () => {
  it('is a cumulative sum of dY the other way round (hand computed, all four attribute pairs)', async () => {
    // X [3]: dX[j] = sum of R[i] over the outputs i whose sum contains X[j]
    const expected = (R: Float32Array, exclusive: number, reverse: number) =>
      [0, 1, 2].map((j) => [0, 1, 2].filter((i) => (reverse ? (exclusive ? i < j : i <= j) : exclusive ? i > j : i >= j)).reduce((a, i) => a + R[i], 0));
    for (const exclusive of [0, 1]) {
      for (const reverse of [0, 1]) {
        const m = makeOpModel({
          op: 'CumSum',
          inputs: [
            { name: 'X', kind: 'param', shape: [3], values: [1, 2, 3] },
            { name: 'axis', kind: 'int', shape: [], values: [0] },
          ],
          attrs: { exclusive, reverse },
        });
        expectClose((await computeGradients(m)).grads.X.data, expected(m.weights[0], exclusive, reverse), 1e-6, `exclusive ${exclusive} reverse ${reverse}`);
      }
    }
  });

  it.each([
    { x: [3, 4], axis: 1, exclusive: 0, reverse: 0 },
    { x: [2, 3, 4], axis: 0, exclusive: 1, reverse: 0 },
    { x: [2, 3, 4], axis: -1, exclusive: 0, reverse: 1 },
    { x: [4, 2, 3], axis: 2, exclusive: 1, reverse: 1 },
  ])('passes a central-difference check: $x axis $axis exclusive $exclusive reverse $reverse', async ({ x, axis, exclusive, reverse }) => {
    const m = makeOpModel({
      op: 'CumSum',
      inputs: [
        { name: 'X', kind: 'param', shape: x },
        { name: 'axis', kind: 'int', shape: [], values: [axis] },
      ],
      attrs: { exclusive, reverse },
    });
    await checkGradients(m, { label: JSON.stringify({ x, axis }) });
  });
});
