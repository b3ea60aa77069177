/**
 * Casting a named array to the element type its model input declares, as `arr.astype(...)` would, but never
 * silently changing a value: a fraction does not become an int64 id, a value outside the target's range is not
 * wrapped or clipped, a mask value other than 0 and 1 does not become true. Such a value is an error naming the
 * array, the row and the input. Floats to float32 round as numpy does; finite values beyond float32's range are
 * refused (they would become infinite).
 */
import { RegraftError } from '../errors.js';
import { rowSize, type ArrayData, type ArrayType, type NamedArray } from './named-arrays.js';

const INTEGER_RANGES: Partial<Record<ArrayType, [number, number]>> = {
  int64: [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  int16: [-(2 ** 15), 2 ** 15 - 1],
  int8: [-128, 127],
  uint8: [0, 255],
  uint16: [0, 2 ** 16 - 1],
  uint32: [0, 2 ** 32 - 1],
};

const FLOAT32_MAX = 3.4028234663852886e38;

const NUMPY_NAMES: Record<ArrayType, string> = {
  float32: 'np.float32', float64: 'np.float64', int64: 'np.int64', int32: 'np.int32', int16: 'np.int16', int8: 'np.int8',
  uint8: 'np.uint8', uint16: 'np.uint16', uint32: 'np.uint32', bool: 'bool',
};

/**
 * `a` as an array of `to` (the same object when it already is one). `takenBy` says what reads the array, for
 * messages: "model input 'input_ids'" or "the labels".
 */
export function castArray(a: NamedArray, to: ArrayType, takenBy: string): NamedArray {
  if (a.type === to) return a;
  const refuse = (i: number, why: string): RegraftError => {
    const value = a.data[i];
    return new RegraftError(
      `${a.source} holds ${String(value)} at row ${Math.floor(i / Math.max(1, rowSize(a)))}, ${why}, but ${takenBy} takes ${to}; ` +
        `save the array as ${to} with values it can hold (arr.astype(${NUMPY_NAMES[to]}))`,
    );
  };
  const n = a.data.length;
  const source = a.data;
  const at = (i: number): number => Number(source[i]);
  let data: ArrayData;
  const range = INTEGER_RANGES[to];
  if (range) {
    const [lo, hi] = range;
    for (let i = 0; i < n; i++) {
      const v = at(i);
      if (!Number.isInteger(v)) throw refuse(i, 'which is not a whole number');
      if (v < lo || v > hi) throw refuse(i, `outside ${to}'s range [${lo}, ${hi}]`);
    }
    data = integerArray(to, n, source);
  } else if (to === 'bool') {
    for (let i = 0; i < n; i++) {
      const v = at(i);
      if (v !== 0 && v !== 1) throw refuse(i, 'which is neither 0 nor 1');
    }
    data = Uint8Array.from({ length: n }, (_, i) => at(i));
  } else if (to === 'float32') {
    for (let i = 0; i < n; i++) {
      const v = at(i);
      if (Number.isFinite(v) && Math.abs(v) > FLOAT32_MAX) throw refuse(i, "outside float32's range");
    }
    data = source instanceof BigInt64Array ? Float32Array.from(source, Number) : Float32Array.from(source as Exclude<ArrayData, BigInt64Array>);
  } else {
    data = source instanceof BigInt64Array ? Float64Array.from(source, Number) : Float64Array.from(source as Exclude<ArrayData, BigInt64Array>);
  }
  return { ...a, type: to, data };
}

function integerArray(to: ArrayType, n: number, source: ArrayData): ArrayData {
  if (to === 'int64') {
    if (source instanceof BigInt64Array) return source;
    const out = new BigInt64Array(n);
    for (let i = 0; i < n; i++) out[i] = BigInt(source[i] as number);
    return out;
  }
  const values = source instanceof BigInt64Array ? Array.from(source, Number) : (source as Exclude<ArrayData, BigInt64Array>);
  switch (to) {
    case 'int32':
      return Int32Array.from(values);
    case 'int16':
      return Int16Array.from(values);
    case 'int8':
      return Int8Array.from(values);
    case 'uint8':
      return Uint8Array.from(values);
    case 'uint16':
      return Uint16Array.from(values);
    default:
      return Uint32Array.from(values);
  }
}
