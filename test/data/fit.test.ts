import { describe, expect, it } from 'vitest';
import { RegraftError } from '../../src/errors.js';
import { fitSampleShape, type Dataset } from '../../src/data/index.js';

const mnistLike: Dataset = {
  name: 'mnist',
  size: 2,
  sampleShape: [28, 28],
  features: new Float32Array(2 * 784),
  labels: Int32Array.of(0, 1),
  numClasses: 10,
};

describe('fitSampleShape', () => {
  it.each([
    [['N', 784], [784]],
    [[null, 784], [784]],
    [[64, 784], [784]],
    [['batch', 1, 28, 28], [1, 28, 28]],
    [['batch', 'c', 28, 28], [1, 28, 28]],
    [['batch', 'h', 'w'], [28, 28]],
    [['batch', 28, 'w'], [28, 28]],
    [['batch', 'features'], [784]],
  ] as [(number | string | null)[], number[]][])('fits MNIST samples to %j as %j', (dims, expected) => {
    expect(fitSampleShape(mnistLike, dims, 'input')).toEqual(expected);
  });

  it('names the data, the input and both shapes on a mismatch', () => {
    const err = (() => {
      try {
        fitSampleShape(mnistLike, ['N', 3, 32, 32], 'pixels');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(RegraftError);
    expect((err as Error).message).toBe(
      "data 'mnist' has samples of shape [28,28] (784 values) but model input 'pixels' has shape [N,3,32,32]: 3072 values per sample; use data whose samples match the input, or a model that takes them",
    );
  });

  it.each([
    [['N', 'c', 100]],
    [['N', 'a', 'b', 'c']],
    [['N', 5, 'w']],
    [[]],
  ] as [(number | string | null)[]][])('rejects %j', (dims) => {
    expect(() => fitSampleShape(mnistLike, dims, 'x')).toThrow(/data 'mnist' has samples of shape \[28,28\].*model input 'x'/);
  });
});
