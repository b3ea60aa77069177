import { TensorProto_DataType as DataType } from 'onnx-buf';

export { DataType };

/** Bytes per element for the fixed-width ONNX element types regraft reads and writes directly. */
const ELEMENT_BYTES: Partial<Record<DataType, number>> = {
  [DataType.FLOAT]: 4,
  [DataType.UINT8]: 1,
  [DataType.INT8]: 1,
  [DataType.UINT16]: 2,
  [DataType.INT16]: 2,
  [DataType.INT32]: 4,
  [DataType.INT64]: 8,
  [DataType.BOOL]: 1,
  [DataType.FLOAT16]: 2,
  [DataType.DOUBLE]: 8,
  [DataType.UINT32]: 4,
  [DataType.UINT64]: 8,
  [DataType.BFLOAT16]: 2,
};

export function elementBytes(dtype: DataType): number | undefined {
  return ELEMENT_BYTES[dtype];
}

/** The ONNX name of an element type (`FLOAT`, `INT64`, ...), for messages and `inspect`. */
export function dtypeName(dtype: number): string {
  return DataType[dtype] ?? `dtype(${dtype})`;
}

/** Lower-case names used by onnxruntime-node's Tensor (`float32`, `int64`, ...). */
export function ortTypeName(dtype: DataType): string {
  switch (dtype) {
    case DataType.FLOAT: return 'float32';
    case DataType.DOUBLE: return 'float64';
    case DataType.INT64: return 'int64';
    case DataType.INT32: return 'int32';
    case DataType.INT16: return 'int16';
    case DataType.INT8: return 'int8';
    case DataType.UINT8: return 'uint8';
    case DataType.UINT16: return 'uint16';
    case DataType.UINT32: return 'uint32';
    case DataType.UINT64: return 'uint64';
    case DataType.BOOL: return 'bool';
    case DataType.FLOAT16: return 'float16';
    case DataType.STRING: return 'string';
    default: return dtypeName(dtype).toLowerCase();
  }
}

export function isFloatType(dtype: number): boolean {
  return dtype === DataType.FLOAT || dtype === DataType.DOUBLE || dtype === DataType.FLOAT16 || dtype === DataType.BFLOAT16;
}

/** The integer element types (bool is not one: it has truth values, not numbers). */
const INTEGER_TYPES: ReadonlySet<number> = new Set([DataType.INT8, DataType.UINT8, DataType.INT16, DataType.UINT16, DataType.INT32, DataType.UINT32, DataType.INT64, DataType.UINT64]);

export function isIntegerType(dtype: number): boolean {
  return INTEGER_TYPES.has(dtype);
}
