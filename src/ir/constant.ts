/**
 * Values whose contents are known before running the graph: initializers and outputs of Constant nodes. Rules and
 * passes read shapes, axes, scales and sequence lengths from them.
 */
import { DataType } from './dtype.js';
import { tensorToBools, tensorToFloat32, tensorToNumbers, type TensorProto } from './tensor.js';
import type { Value } from './value.js';

/** The tensor `v` always holds: its initializer, or the `value` of the Constant node producing it. */
export function constantTensor(v: Value | null | undefined): TensorProto | undefined {
  if (!v) return undefined;
  if (v.initializer) return v.initializer;
  if (v.producer?.opType === 'Constant') return v.producer.attrs.tensor('value');
  return undefined;
}

/** The values of a constant integer (INT64 or INT32) tensor, else undefined. */
export function constantInts(v: Value | null | undefined): number[] | undefined {
  const t = constantTensor(v);
  if (!t || (t.dataType !== DataType.INT64 && t.dataType !== DataType.INT32)) return undefined;
  return tensorToNumbers(t);
}

/** The values of a constant FLOAT tensor, else undefined. */
export function constantFloats(v: Value | null | undefined): number[] | undefined {
  const t = constantTensor(v);
  if (!t || t.dataType !== DataType.FLOAT) return undefined;
  return Array.from(tensorToFloat32(t));
}

/** The value of a constant float scalar (FLOAT or DOUBLE; a scalar or a one-element tensor), else undefined. */
export function constantFloat(v: Value | null | undefined): number | undefined {
  const t = constantTensor(v);
  if (!t || (t.dataType !== DataType.FLOAT && t.dataType !== DataType.DOUBLE)) return undefined;
  const data = tensorToFloat32(t);
  return data.length === 1 ? data[0] : undefined;
}

/** The value of a constant bool scalar (raw_data or int32_data), else undefined. */
export function constantBool(v: Value | null | undefined): boolean | undefined {
  const t = constantTensor(v);
  if (!t || t.dataType !== DataType.BOOL) return undefined;
  const values = tensorToBools(t);
  return values.length === 1 ? values[0] : undefined;
}
