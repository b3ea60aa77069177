import { describe, expect, it } from 'vitest';
import { firstNonFiniteFloat32, floatTensor, tensorDims, tensorToFloat32, zerosFloatTensor } from '../../src/ir/tensor.js';

describe('zerosFloatTensor', () => {
  it('is the tensor floatTensor makes of zeros, over zero bytes that all such tensors share', () => {
    const dims = [3, 5];
    const zeros = zerosFloatTensor('m', dims);
    const reference = floatTensor('m', new Float32Array(15), dims);
    expect(zeros.dataType).toBe(reference.dataType);
    expect(tensorDims(zeros)).toEqual(dims);
    expect(zeros.rawData).toEqual(reference.rawData);
    expect(Array.from(tensorToFloat32(zeros))).toEqual(new Array(15).fill(0));
    expect(zerosFloatTensor('m2', dims).rawData.buffer).toBe(zeros.rawData.buffer);
    expect(zerosFloatTensor('s', []).rawData.length).toBe(4);
    // A larger one grows the shared buffer; the tensors made before keep theirs, still zeros and of their size.
    const big = zerosFloatTensor('big', [1 << 20]);
    expect(big.rawData.length).toBe(4 << 20);
    expect(big.rawData.every((x) => x === 0)).toBe(true);
    expect(zeros.rawData.length).toBe(60);
    expect(zeros.rawData.every((x) => x === 0)).toBe(true);
  });
});

describe('firstNonFiniteFloat32', () => {
  /** A FLOAT tensor whose raw_data starts at `offset` bytes into a larger buffer (as in a loaded file). */
  function stored(values: number[], offset: number) {
    const t = floatTensor('w', values, [values.length]);
    const buffer = new Uint8Array(offset + values.length * 4);
    buffer.set(t.rawData, offset);
    t.rawData = buffer.subarray(offset);
    return t;
  }

  it('finds the first inf or NaN at any alignment, and nothing in finite values', () => {
    for (const offset of [0, 1, 2, 3]) {
      expect(firstNonFiniteFloat32(stored([1, -2.5, 3e38, -0, 1e-45], offset))).toBeUndefined();
      expect(firstNonFiniteFloat32(stored([1, -Infinity, NaN], offset))).toBe(-Infinity);
      expect(firstNonFiniteFloat32(stored([0.5, NaN, Infinity], offset))).toBeNaN();
    }
  });

  it('reads float_data tensors too', () => {
    const t = floatTensor('w', [1], [1]);
    t.rawData = new Uint8Array(0);
    t.floatData = [2, Infinity];
    t.dims = [2n];
    expect(firstNonFiniteFloat32(t)).toBe(Infinity);
  });
});
