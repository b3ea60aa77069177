/**
 * Named arrays: the data of a model with several inputs (BERT's input_ids, attention_mask, token_type_ids; a
 * token-level or causal-LM label array), one array per model input by the input's name, plus `labels`. All arrays
 * share their first dim, the rows (samples); row i of every array belongs to sample i. They come from an .npz file
 * (`npz:FILE.npz`), from NPY files named one by one (`npy:input_ids=ids.npy,...`), or from typed arrays in the API,
 * and keep the element type they were stored with until casting them to the model's input types (cast.ts).
 */
import { RegraftError } from '../errors.js';
import { numel } from '../ir/tensor.js';
import { readDataFile } from './files.js';
import { parseNpy, type NpyArray, type NpyContents } from './npy.js';
import { readZip } from './zip.js';
import { isNamedSource, parseDataSpec, type DataSource } from './spec.js';

/** Element types of named arrays: onnxruntime's tensor type names. */
export const ARRAY_TYPES = ['float32', 'float64', 'int64', 'int32', 'int16', 'int8', 'uint8', 'uint16', 'uint32', 'bool'] as const;
export type ArrayType = (typeof ARRAY_TYPES)[number];
export type ArrayData = NpyArray;

export interface NamedArray {
  type: ArrayType;
  /** C order; dims[0] is the row count. bool is one byte per element, 0 or 1. */
  data: ArrayData;
  dims: number[];
  /** Where the array came from, for messages: `train.npz:input_ids`, `ids.npy`. */
  source: string;
}

export interface NamedArrays {
  /** The spec or name the arrays were loaded from, for messages. */
  name: string;
  rows: number;
  arrays: Map<string, NamedArray>;
}

/** Values per row of an array. */
export const rowSize = (a: Pick<NamedArray, 'dims'>): number => numel(a.dims.slice(1));

const TYPE_OF_ARRAY: [new (...args: never[]) => ArrayData, ArrayType][] = [
  [Float32Array, 'float32'],
  [Float64Array, 'float64'],
  [BigInt64Array, 'int64'],
  [Int32Array, 'int32'],
  [Int16Array, 'int16'],
  [Int8Array, 'int8'],
  [Uint8Array, 'uint8'],
  [Uint16Array, 'uint16'],
  [Uint32Array, 'uint32'],
];

/** The element type a typed array holds (a Uint8Array is uint8 unless `bool` is said). */
function typeOfData(data: ArrayData, name: string): ArrayType {
  const found = TYPE_OF_ARRAY.find(([ctor]) => data instanceof ctor);
  if (!found) throw new RegraftError(`array '${name}' is not a typed array regraft reads (Float32Array, BigInt64Array, Int32Array, Uint8Array, ...)`);
  return found[1];
}

/** What the API takes: typed arrays by name, with their dims (rows first) and, for a Uint8Array of masks, `type: 'bool'`. */
export type ArrayInput = { data: ArrayData; dims: readonly number[]; type?: ArrayType };

/** Named arrays from typed arrays (the API's form of `--data npz:...`); the arrays are used, not copied. */
export function namedArrays(inputs: Record<string, ArrayInput>, name = 'arrays'): NamedArrays {
  return assembleArrays(
    name,
    Object.entries(inputs).map(([key, a]) => {
      const type = a.type ?? typeOfData(a.data, key);
      if (!(ARRAY_TYPES as readonly string[]).includes(type)) throw new RegraftError(`array '${key}' of ${name}: type '${type}' is not one of ${ARRAY_TYPES.join(', ')}`);
      if (type === 'bool' && !(a.data instanceof Uint8Array)) throw new RegraftError(`array '${key}' of ${name}: a bool array is held in a Uint8Array (0 or 1 per element)`);
      if (type !== 'bool' && typeOfData(a.data, key) !== type) throw new RegraftError(`array '${key}' of ${name}: type '${type}' does not match its ${a.data.constructor.name}`);
      if (a.data.length !== numel(a.dims)) throw new RegraftError(`array '${key}' of ${name}: dims [${a.dims.join(', ')}] need ${numel(a.dims)} values, it holds ${a.data.length}`);
      return [key, { type, data: a.data, dims: [...a.dims], source: `${name}:${key}` }];
    }),
  );
}

/** The named arrays a spec names (npz: or npy:NAME=FILE,...). */
export async function loadNamedArrays(spec: string): Promise<NamedArrays> {
  const source = parseDataSpec(spec);
  if (!isNamedSource(source)) {
    throw new RegraftError(`data spec '${spec}' is one feature file and its labels, not named arrays; use npz:FILE.npz or npy:NAME=FILE,...`);
  }
  return assembleArrays(spec, await readSource(source));
}

async function readSource(source: Extract<DataSource, { kind: 'npz' | 'npy-named' }>): Promise<[string, NamedArray][]> {
  if (source.kind === 'npy-named') {
    return Promise.all(source.files.map(async ({ name, path }) => [name, fromNpy(parseNpy(await readDataFile(path), path), path)] as [string, NamedArray]));
  }
  const members = readZip(await readDataFile(source.path), source.path);
  if (members.length === 0) throw new RegraftError(`${source.path} holds no arrays; save them with np.savez(path, input_ids=..., labels=...)`);
  return members.map(({ name, data }) => {
    if (!name.endsWith('.npy')) throw new RegraftError(`${source.path}: member '${name}' is not an .npy array; an .npz file holds only the arrays np.savez writes`);
    const where = `${source.path}:${name.slice(0, -4)}`;
    return [name.slice(0, -4), fromNpy(parseNpy(data, where), where)];
  });
}

function fromNpy(npy: NpyContents, source: string): NamedArray {
  return { type: typeOfNpy(npy, source), data: npy.data, dims: npy.shape, source };
}

function typeOfNpy(npy: NpyContents, source: string): ArrayType {
  if (npy.descr === '|b1') return 'bool';
  return typeOfData(npy.data, source);
}

/** Checks that every array has rows and that all have the same number of them. */
function assembleArrays(name: string, entries: [string, NamedArray][]): NamedArrays {
  if (entries.length === 0) throw new RegraftError(`${name} holds no arrays`);
  const [firstName, first] = entries[0];
  for (const [key, a] of entries) {
    if (a.dims.length === 0) throw new RegraftError(`array '${key}' (${a.source}) is a scalar; every array needs one row per sample, shape (N, ...)`);
    if (a.dims[0] !== first.dims[0]) {
      throw new RegraftError(
        `array '${key}' (${a.source}) has ${a.dims[0]} rows but '${firstName}' has ${first.dims[0]}; every array needs one row per sample, in the same order`,
      );
    }
  }
  if (first.dims[0] === 0) throw new RegraftError(`${name} holds no samples (its arrays have 0 rows)`);
  return { name, rows: first.dims[0], arrays: new Map(entries) };
}

/** The first `n` rows of every array (views, no copy). */
export function firstRows(arrays: NamedArrays, n: number): NamedArrays {
  if (n >= arrays.rows) return arrays;
  const out = new Map<string, NamedArray>();
  for (const [key, a] of arrays.arrays) out.set(key, { ...a, data: a.data.subarray(0, n * rowSize(a)) as ArrayData, dims: [n, ...a.dims.slice(1)] });
  return { name: `${arrays.name}[:${n}]`, rows: n, arrays: out };
}
