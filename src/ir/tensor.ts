import { create } from '@bufbuild/protobuf';
import { TensorProtoSchema, TensorProto_DataLocation, type TensorProto } from 'onnx-buf';
import { RegraftError } from '../errors.js';
import { DataType, dtypeName, elementBytes } from './dtype.js';

export type { TensorProto };

/** Number of elements of a tensor with these dims (1 for a scalar). */
export function numel(dims: readonly (number | bigint)[]): number {
  let n = 1;
  for (const d of dims) n *= Number(d);
  return n;
}

export function tensorDims(t: TensorProto): number[] {
  return t.dims.map(Number);
}

/** Bytes of tensor data as stored (raw_data or the typed repeated fields), for parameter counts and `inspect`. */
export function tensorByteSize(t: TensorProto): number {
  const width = elementBytes(t.dataType);
  if (width !== undefined) return numel(t.dims) * width;
  return t.rawData.length;
}

function copyBytes(bytes: Uint8Array): ArrayBuffer {
  // raw_data often points into the middle of the model file's buffer, at any alignment: copy to an aligned buffer.
  const out = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(out).set(bytes);
  return out;
}

function assertInline(t: TensorProto, what: string): void {
  if (t.dataLocation === TensorProto_DataLocation.EXTERNAL) {
    throw new RegraftError(`tensor '${t.name}': data is still external; load the model with loadModel() so ${what} can read it`);
  }
}

/** Reads a float tensor (FLOAT or DOUBLE) as float32 values. */
export function tensorToFloat32(t: TensorProto): Float32Array {
  assertInline(t, 'its values');
  const n = numel(t.dims);
  if (t.dataType === DataType.FLOAT) {
    if (t.rawData.length > 0) {
      if (t.rawData.length !== n * 4) throw badSize(t, n * 4);
      return new Float32Array(copyBytes(t.rawData));
    }
    return Float32Array.from(t.floatData);
  }
  if (t.dataType === DataType.DOUBLE) {
    if (t.rawData.length > 0) return Float32Array.from(new Float64Array(copyBytes(t.rawData)));
    return Float32Array.from(t.doubleData);
  }
  throw new RegraftError(`tensor '${t.name}': expected a FLOAT tensor, found ${dtypeName(t.dataType)}`);
}

/**
 * The bits of a FLOAT tensor's elements, for reading only: a view of its raw_data when that is 4-byte aligned
 * (no copy, so analyses of a large model do not double its memory), a copy otherwise. Never write through it.
 */
export function float32Bits(t: TensorProto): Uint32Array {
  if (t.dataType !== DataType.FLOAT) throw new RegraftError(`tensor '${t.name}': expected a FLOAT tensor, found ${dtypeName(t.dataType)}`);
  const raw = t.rawData;
  if (raw.length > 0 && raw.byteOffset % 4 === 0 && t.dataLocation !== TensorProto_DataLocation.EXTERNAL) {
    const n = numel(t.dims);
    if (raw.length !== n * 4) throw badSize(t, n * 4);
    return new Uint32Array(raw.buffer, raw.byteOffset, n);
  }
  return new Uint32Array(tensorToFloat32(t).buffer);
}

/**
 * The first inf or NaN of a FLOAT tensor (all exponent bits set), or undefined; reads raw_data in place at any
 * alignment. (float32Bits copies unaligned raw_data, which is most tensors of a loaded file: for ResNet-50's 100 MB,
 * once per parameter analysis.)
 */
export function firstNonFiniteFloat32(t: TensorProto): number | undefined {
  const raw = t.rawData;
  if (raw.length === 0 || t.dataLocation === TensorProto_DataLocation.EXTERNAL) {
    const bits = float32Bits(t);
    for (let i = 0; i < bits.length; i++) if ((bits[i] & 0x7f800000) === 0x7f800000) return new Float32Array(bits.buffer, i * 4, 1)[0];
    return undefined;
  }
  if (t.dataType !== DataType.FLOAT) throw new RegraftError(`tensor '${t.name}': expected a FLOAT tensor, found ${dtypeName(t.dataType)}`);
  const n = numel(t.dims);
  if (raw.length !== n * 4) throw badSize(t, n * 4);
  // Little-endian float32: the exponent is the low 7 bits of byte 3 and the high bit of byte 2.
  for (let i = 2; i < raw.length; i += 4) {
    if ((raw[i + 1] & 0x7f) === 0x7f && (raw[i] & 0x80) === 0x80) return new Float32Array(copyBytes(raw.subarray(i - 2, i + 2)))[0];
  }
  return undefined;
}

/** Typed arrays over raw_data, by integer element type. */
const RAW_INTEGERS: Partial<Record<number, new (buffer: ArrayBuffer) => ArrayLike<number | bigint>>> = {
  [DataType.INT8]: Int8Array,
  [DataType.UINT8]: Uint8Array,
  [DataType.INT16]: Int16Array,
  [DataType.UINT16]: Uint16Array,
  [DataType.INT32]: Int32Array,
  [DataType.UINT32]: Uint32Array,
  [DataType.INT64]: BigInt64Array,
  [DataType.UINT64]: BigUint64Array,
};

/**
 * Reads an integer tensor of any integer type as bigint values (UINT64 above 2^63 wraps). Without raw_data the
 * values are in the field ONNX keeps them in: int64_data for INT64, uint64_data for UINT32 and UINT64, int32_data
 * for the narrower ones.
 */
export function tensorToBigInt64(t: TensorProto): BigInt64Array {
  assertInline(t, 'its values');
  const Raw = RAW_INTEGERS[t.dataType];
  if (!Raw) throw new RegraftError(`tensor '${t.name}': expected an integer tensor, found ${dtypeName(t.dataType)}`);
  if (t.rawData.length > 0) {
    const n = numel(t.dims);
    const width = elementBytes(t.dataType)!;
    if (t.rawData.length !== n * width) throw badSize(t, n * width);
    if (t.dataType === DataType.INT64) return new BigInt64Array(copyBytes(t.rawData));
    return BigInt64Array.from(new Raw(copyBytes(t.rawData)) as ArrayLike<number | bigint>, (x) => BigInt(x));
  }
  if (t.dataType === DataType.INT64) return BigInt64Array.from(t.int64Data);
  if (t.dataType === DataType.UINT32 || t.dataType === DataType.UINT64) return BigInt64Array.from(t.uint64Data, (x) => BigInt.asIntN(64, x));
  return BigInt64Array.from(t.int32Data, (x) => BigInt(x));
}

/** The elements of a BOOL tensor: its raw_data bytes, or without raw_data its int32_data (ONNX keeps bools there). */
export function tensorToBools(t: TensorProto): boolean[] {
  return t.rawData.length > 0 ? Array.from(t.rawData, (b) => b !== 0) : t.int32Data.map((b) => b !== 0);
}

/** Integer tensor values as plain numbers (shapes, axes). */
export function tensorToNumbers(t: TensorProto): number[] {
  if (t.dataType === DataType.FLOAT || t.dataType === DataType.DOUBLE) return Array.from(tensorToFloat32(t));
  return Array.from(tensorToBigInt64(t), Number);
}

function badSize(t: TensorProto, expected: number): RegraftError {
  return new RegraftError(
    `tensor '${t.name}': raw_data has ${t.rawData.length} bytes but dims ${JSON.stringify(tensorDims(t))} need ${expected}; the model file is corrupt`,
  );
}

export function floatTensor(name: string, data: Float32Array | number[], dims: readonly number[]): TensorProto {
  const arr = data instanceof Float32Array ? data : Float32Array.from(data);
  return floatTensorOver(name, new Uint8Array(arr.buffer.slice(arr.byteOffset, arr.byteOffset + arr.byteLength) as ArrayBuffer), arr.length, dims);
}

/**
 * A FLOAT tensor whose raw_data is a view of `data`, not a copy: for values that nothing writes to while the tensor
 * lives (a checkpoint's trained tensors on their way to disk). ResNet-18's parameters and Adam state are 128 MiB,
 * which a copy per checkpoint would add to the run's peak memory.
 */
export function floatTensorView(name: string, data: Float32Array, dims: readonly number[]): TensorProto {
  return floatTensorOver(name, new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength), data.length, dims);
}

function floatTensorOver(name: string, rawData: Uint8Array<ArrayBuffer>, length: number, dims: readonly number[]): TensorProto {
  if (length !== numel(dims)) {
    throw new RegraftError(`tensor '${name}': ${length} values do not fill dims ${JSON.stringify(dims)}`);
  }
  return create(TensorProtoSchema, { name, dims: dims.map(BigInt), dataType: DataType.FLOAT, rawData });
}

/** Zero bytes that float tensors of zeros share, grown to the largest asked for (see zerosFloatTensor). */
let sharedZeros = new Uint8Array(0);

/**
 * A float tensor of zeros (Adam's moments: 200 MB for a ResNet-50). Its raw_data is a view of one zero buffer that
 * all such tensors share, sized for the largest: the IR never writes into tensor bytes (rewrites replace tensors),
 * and sharing saves allocating and clearing a buffer per tensor, then faulting each one in while the file is
 * written. Never write through it.
 */
export function zerosFloatTensor(name: string, dims: readonly number[]): TensorProto {
  const bytes = numel(dims) * 4;
  if (sharedZeros.length < bytes) sharedZeros = new Uint8Array(Math.max(bytes, 2 * sharedZeros.length));
  return create(TensorProtoSchema, { name, dims: dims.map(BigInt), dataType: DataType.FLOAT, rawData: sharedZeros.subarray(0, bytes) });
}

export function int64Tensor(name: string, data: BigInt64Array | readonly (number | bigint)[], dims: readonly number[]): TensorProto {
  const arr = data instanceof BigInt64Array ? data : BigInt64Array.from(data, (x) => BigInt(x));
  if (arr.length !== numel(dims)) {
    throw new RegraftError(`tensor '${name}': ${arr.length} values do not fill dims ${JSON.stringify(dims)}`);
  }
  return create(TensorProtoSchema, {
    name,
    dims: dims.map(BigInt),
    dataType: DataType.INT64,
    rawData: new Uint8Array(arr.buffer.slice(arr.byteOffset, arr.byteOffset + arr.byteLength) as ArrayBuffer),
  });
}

export function boolTensor(name: string, data: readonly boolean[], dims: readonly number[]): TensorProto {
  return create(TensorProtoSchema, {
    name,
    dims: dims.map(BigInt),
    dataType: DataType.BOOL,
    rawData: Uint8Array.from(data, (b) => (b ? 1 : 0)),
  });
}
