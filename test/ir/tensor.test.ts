import { describe, expect, it } from 'vitest';
import { floatTensor, tensorDims, tensorToFloat32, zerosFloatTensor } from '../../src/ir/tensor.js';

describe('zerosFloatTensor', () => {
  it('is the tensor floatTensor makes of zeros, with a buffer of its own', () => {
    const dims = [3, 5];
    const zeros = zerosFloatTensor('m', dims);
    const reference = floatTensor('m', new Float32Array(15), dims);
    expect(zeros.dataType).toBe(reference.dataType);
    expect(tensorDims(zeros)).toEqual(dims);
    expect(zeros.rawData).toEqual(reference.rawData);
    expect(Array.from(tensorToFloat32(zeros))).toEqual(new Array(15).fill(0));
    expect(zerosFloatTensor('m', dims).rawData.buffer).not.toBe(zeros.rawData.buffer);
    expect(zerosFloatTensor('s', []).rawData.length).toBe(4);
  });
});
