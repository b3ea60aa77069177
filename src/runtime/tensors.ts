import { Tensor } from './onnxruntime.js';
import { RegraftError } from '../errors.js';
import { numel } from '../ir/tensor.js';

// The ort prefix keeps these apart from ir/tensor.ts's floatTensor/int64Tensor, which make TensorProtos.

function checkLength(kind: string, length: number, dims: readonly number[]): void {
  const expected = numel(dims);
  if (length !== expected) {
    throw new RegraftError(`${kind} tensor of dims [${dims.join(',')}] needs ${expected} values, got ${length}`);
  }
}

/** A float32 tensor over `data` (no copy). */
export function ortFloatTensor(data: Float32Array, dims: readonly number[]): Tensor {
  checkLength('float32', data.length, dims);
  return new Tensor('float32', data, dims);
}

/** An int64 tensor over `data` (no copy), e.g. class labels. */
export function ortInt64Tensor(data: BigInt64Array, dims: readonly number[]): Tensor {
  checkLength('int64', data.length, dims);
  return new Tensor('int64', data, dims);
}

/** A rank-0 float32 tensor, e.g. the learning rate. */
export function scalar(x: number): Tensor {
  return new Tensor('float32', Float32Array.of(x), []);
}

export type FeatureType = 'float32' | 'int64';

/** Features as a model input wants them: float32 over `data` (no copy), or int64 converted from whole numbers. */
export function featureTensor(data: Float32Array, dims: readonly number[], type: FeatureType): Tensor {
  if (type === 'float32') return ortFloatTensor(data, dims);
  return ortInt64Tensor(BigInt64Array.from(data, (x) => BigInt(x)), dims);
}

/** The names test/autodiff imports these by (its files are reorganized separately); new code uses the ort names. */
export { ortFloatTensor as floatTensor, ortInt64Tensor as int64Tensor };
