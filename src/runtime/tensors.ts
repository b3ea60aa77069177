import { Tensor } from './onnxruntime.js';
import { RegraftError } from '../errors.js';

function checkLength(kind: string, length: number, dims: readonly number[]): void {
  const expected = dims.reduce((n, d) => n * d, 1);
  if (length !== expected) {
    throw new RegraftError(`${kind} tensor of dims [${dims.join(',')}] needs ${expected} values, got ${length}`);
  }
}

/** A float32 tensor over `data` (no copy). */
export function floatTensor(data: Float32Array, dims: readonly number[]): Tensor {
  checkLength('float32', data.length, dims);
  return new Tensor('float32', data, dims);
}

/** An int64 tensor over `data` (no copy), e.g. class labels. */
export function int64Tensor(data: BigInt64Array, dims: readonly number[]): Tensor {
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
  if (type === 'float32') return floatTensor(data, dims);
  return int64Tensor(BigInt64Array.from(data, (x) => BigInt(x)), dims);
}
