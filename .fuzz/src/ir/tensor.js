import { create } from '@bufbuild/protobuf';
import { TensorProtoSchema, TensorProto_DataLocation } from 'onnx-buf';
import { RegraftError } from '../errors.js';
import { DataType, dtypeName, elementBytes } from './dtype.js';
/** Number of elements of a tensor with these dims (1 for a scalar). */
export function numel(dims) {
    let n = 1;
    for (const d of dims)
        n *= Number(d);
    return n;
}
export function tensorDims(t) {
    return t.dims.map(Number);
}
/** Bytes of tensor data as stored (raw_data or the typed repeated fields), for parameter counts and `inspect`. */
export function tensorByteSize(t) {
    const width = elementBytes(t.dataType);
    if (width !== undefined)
        return numel(t.dims) * width;
    return t.rawData.length;
}
function copyBytes(bytes) {
    // raw_data often points into the middle of the model file's buffer, at any alignment: copy to an aligned buffer.
    const out = new ArrayBuffer(bytes.byteLength);
    new Uint8Array(out).set(bytes);
    return out;
}
function assertInline(t, what) {
    if (t.dataLocation === TensorProto_DataLocation.EXTERNAL) {
        throw new RegraftError(`tensor '${t.name}': data is still external; load the model with loadModel() so ${what} can read it`);
    }
}
/** Reads a float tensor (FLOAT or DOUBLE) as float32 values. */
export function tensorToFloat32(t) {
    assertInline(t, 'its values');
    const n = numel(t.dims);
    if (t.dataType === DataType.FLOAT) {
        if (t.rawData.length > 0) {
            if (t.rawData.length !== n * 4)
                throw badSize(t, n * 4);
            return new Float32Array(copyBytes(t.rawData));
        }
        return Float32Array.from(t.floatData);
    }
    if (t.dataType === DataType.DOUBLE) {
        if (t.rawData.length > 0)
            return Float32Array.from(new Float64Array(copyBytes(t.rawData)));
        return Float32Array.from(t.doubleData);
    }
    throw new RegraftError(`tensor '${t.name}': expected a FLOAT tensor, found ${dtypeName(t.dataType)}`);
}
/** Reads an integer tensor (INT64 or INT32) as bigint values. */
export function tensorToBigInt64(t) {
    assertInline(t, 'its values');
    const n = numel(t.dims);
    if (t.dataType === DataType.INT64) {
        if (t.rawData.length > 0) {
            if (t.rawData.length !== n * 8)
                throw badSize(t, n * 8);
            return new BigInt64Array(copyBytes(t.rawData));
        }
        return BigInt64Array.from(t.int64Data);
    }
    if (t.dataType === DataType.INT32) {
        const ints = t.rawData.length > 0 ? new Int32Array(copyBytes(t.rawData)) : Int32Array.from(t.int32Data);
        return BigInt64Array.from(ints, (x) => BigInt(x));
    }
    throw new RegraftError(`tensor '${t.name}': expected an INT64 tensor, found ${dtypeName(t.dataType)}`);
}
/** Integer tensor values as plain numbers (shapes, axes). */
export function tensorToNumbers(t) {
    if (t.dataType === DataType.FLOAT || t.dataType === DataType.DOUBLE)
        return Array.from(tensorToFloat32(t));
    return Array.from(tensorToBigInt64(t), Number);
}
function badSize(t, expected) {
    return new RegraftError(`tensor '${t.name}': raw_data has ${t.rawData.length} bytes but dims ${JSON.stringify(tensorDims(t))} need ${expected}; the model file is corrupt`);
}
export function floatTensor(name, data, dims) {
    const arr = data instanceof Float32Array ? data : Float32Array.from(data);
    if (arr.length !== numel(dims)) {
        throw new RegraftError(`tensor '${name}': ${arr.length} values do not fill dims ${JSON.stringify(dims)}`);
    }
    return create(TensorProtoSchema, {
        name,
        dims: dims.map(BigInt),
        dataType: DataType.FLOAT,
        rawData: new Uint8Array(arr.buffer.slice(arr.byteOffset, arr.byteOffset + arr.byteLength)),
    });
}
export function int64Tensor(name, data, dims) {
    const arr = data instanceof BigInt64Array ? data : BigInt64Array.from(data, (x) => BigInt(x));
    if (arr.length !== numel(dims)) {
        throw new RegraftError(`tensor '${name}': ${arr.length} values do not fill dims ${JSON.stringify(dims)}`);
    }
    return create(TensorProtoSchema, {
        name,
        dims: dims.map(BigInt),
        dataType: DataType.INT64,
        rawData: new Uint8Array(arr.buffer.slice(arr.byteOffset, arr.byteOffset + arr.byteLength)),
    });
}
export function boolTensor(name, data, dims) {
    return create(TensorProtoSchema, {
        name,
        dims: dims.map(BigInt),
        dataType: DataType.BOOL,
        rawData: Uint8Array.from(data, (b) => (b ? 1 : 0)),
    });
}
