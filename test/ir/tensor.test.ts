import { create } from '@bufbuild/protobuf';
import { TensorProtoSchema } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { DataType } from '../../src/ir/dtype.js';
import { newModel } from '../../src/ir/model.js';
import { constantValues } from '../../src/ir/shape/values.js';
import { firstNonFiniteFloat32, floatTensor, floatTensorView, tensorDims, tensorToBigInt64, tensorToFloat32, zerosFloatTensor } from '../../src/ir/tensor.js';

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

describe('floatTensorView', () => {
  it('holds the same values as floatTensor, over the caller\'s bytes instead of a copy', () => {
    const values = new Float32Array([0, 1.5, -2, 3e-8, 7, 8]).subarray(1, 5);
    const view = floatTensorView('p', values, [2, 2]);
    expect(tensorToFloat32(view)).toEqual(tensorToFloat32(floatTensor('p', values, [2, 2])));
    expect(view.rawData.buffer).toBe(values.buffer);
    expect(view.rawData.byteOffset).toBe(4);
    expect(() => floatTensorView('p', values, [3])).toThrow(/tensor 'p': 4 values do not fill dims \[3\]/);
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

describe('tensorToBigInt64', () => {
  const raw = (dataType: number, bytes: number[], dims: number[]) => create(TensorProtoSchema, { name: 'k', dims: dims.map(BigInt), dataType, rawData: new Uint8Array(bytes) });

  it('reads every integer type from raw_data, signed and unsigned', () => {
    expect([...tensorToBigInt64(raw(DataType.INT8, [1, 255], [2]))]).toEqual([1n, -1n]);
    expect([...tensorToBigInt64(raw(DataType.UINT8, [1, 255], [2]))]).toEqual([1n, 255n]);
    expect([...tensorToBigInt64(raw(DataType.INT16, [0xff, 0xff, 2, 0], [2]))]).toEqual([-1n, 2n]);
    expect([...tensorToBigInt64(raw(DataType.UINT16, [0xff, 0xff], [1]))]).toEqual([65535n]);
    expect([...tensorToBigInt64(raw(DataType.UINT32, [0xff, 0xff, 0xff, 0xff], [1]))]).toEqual([4294967295n]);
    expect([...tensorToBigInt64(raw(DataType.INT64, [5, 0, 0, 0, 0, 0, 0, 0], [1]))]).toEqual([5n]);
  });

  it('reads the typed fields ONNX keeps them in without raw_data', () => {
    const int8 = create(TensorProtoSchema, { name: 'a', dims: [2n], dataType: DataType.INT8, int32Data: [-3, 4] });
    const uint32 = create(TensorProtoSchema, { name: 'b', dims: [1n], dataType: DataType.UINT32, uint64Data: [7n] });
    expect([...tensorToBigInt64(int8)]).toEqual([-3n, 4n]);
    expect([...tensorToBigInt64(uint32)]).toEqual([7n]);
  });

  it('names the tensor when it is not an integer one, or its bytes do not fill it', () => {
    expect(() => tensorToBigInt64(floatTensor('f', [1], [1]))).toThrow("tensor 'f': expected an integer tensor, found FLOAT");
    expect(() => tensorToBigInt64(raw(DataType.INT16, [1, 2, 3], [2]))).toThrow("tensor 'k': raw_data has 3 bytes but dims [2] need 4");
  });

  it('lets shape analysis read a small int8 constant (a quantized model\'s zero points) instead of failing on it', () => {
    const m = newModel();
    const v = m.graph.addInitializer(raw(DataType.INT8, [1, 255], [2]));
    expect(constantValues(v)).toEqual([1, -1]);
  });
});
