/**
 * Generated onnxruntime inputs for checks and measurements: seeded, one draw per element in order, so that the same
 * seed gives the same tensors whoever asks (the equivalence check, `regraft gradcheck`, the step benchmark).
 */
import { Tensor } from '../runtime/onnxruntime.js';
import { RegraftError } from '../errors.js';
import { DataType, dtypeName } from '../ir/dtype.js';
import { numel } from '../ir/tensor.js';
import type { Value } from '../ir/value.js';
import type { Rng } from '../util/rng.js';

/** A float32 tensor of `dims` filled by `draw`, e.g. `() => rng.normal()`. */
export function randomFloats(dims: readonly number[], draw: () => number): Tensor {
  return new Tensor('float32', Float32Array.from({ length: numel(dims) }, draw), dims);
}

/** An int64 tensor of `dims` of whole numbers in [0, high), e.g. class labels. */
export function randomInts(rng: Rng, dims: readonly number[], high: number): Tensor {
  return new Tensor('int64', BigInt64Array.from({ length: numel(dims) }, () => BigInt(rng.int(high))), dims);
}

/**
 * A tensor for the graph input `v` by its element type: standard normal floats, whole numbers in [0, intHigh) for
 * integer types, random bools. `where` names the check in the error for a type it cannot generate.
 */
export function randomInputFor(v: Value, dims: number[], rng: Rng, intHigh: number, where: string): Tensor {
  const n = numel(dims);
  switch (v.elemType) {
    case DataType.FLOAT:
      return randomFloats(dims, () => rng.normal());
    case DataType.DOUBLE:
      return new Tensor('float64', Float64Array.from({ length: n }, () => rng.normal()), dims);
    case DataType.INT64:
      return randomInts(rng, dims, intHigh);
    case DataType.INT32:
      return new Tensor('int32', Int32Array.from({ length: n }, () => rng.int(intHigh)), dims);
    case DataType.BOOL:
      return new Tensor('bool', Uint8Array.from({ length: n }, () => rng.int(2)), dims);
    default:
      throw new RegraftError(`${where}: cannot generate input '${v.name}' of type ${v.elemType === undefined ? 'unknown' : dtypeName(v.elemType)}; supported: FLOAT, DOUBLE, INT64, INT32, BOOL`);
  }
}
