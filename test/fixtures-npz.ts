// Reads the fixtures' .npz files (np.savez: a zip of .npy members, stored uncompressed by the fixture scripts) and
// the transformers fixtures' folders, for tests. A test helper, not regraft's reader of user data: the zip side is
// just enough for the files test/fixtures/*/make_fixtures.py write (stored members, no zip64).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { Tensor } from 'onnxruntime-node';
import { parseNpy, type NpyContents } from '../src/data/npy.js';

export const TRANSFORMERS = join(import.meta.dirname, 'fixtures', 'transformers');
export const FINETUNE = join(import.meta.dirname, 'fixtures', 'finetune');
export const EXPORTERS = ['torchscript', 'dynamo'] as const;
export type Exporter = (typeof EXPORTERS)[number];

/** Every array of an .npz file by its name (the member name without `.npy`). */
export function readNpz(path: string): Map<string, NpyContents> {
  const buf = readFileSync(path);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let end = buf.length - 22;
  while (end >= 0 && view.getUint32(end, true) !== 0x06054b50) end--;
  if (end < 0) throw new Error(`${path}: no zip end-of-central-directory record`);
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const arrays = new Map<string, NpyContents>();
  for (let i = 0; i < count; i++) {
    if (view.getUint32(at, true) !== 0x02014b50) throw new Error(`${path}: bad central directory entry ${i}`);
    const method = view.getUint16(at + 10, true);
    const compressed = view.getUint32(at + 20, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    const name = buf.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    const dataStart = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const raw = buf.subarray(dataStart, dataStart + compressed);
    const body = method === 0 ? raw : method === 8 ? inflateRawSync(raw) : undefined;
    if (!body) throw new Error(`${path}: member ${name} uses zip method ${method}`);
    arrays.set(name.replace(/\.npy$/, ''), parseNpy(new Uint8Array(body), `${path}:${name}`));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return arrays;
}

/** An npz array as an onnxruntime tensor (int64 and float32 as stored). */
export function npzTensor(a: NpyContents): Tensor {
  if (a.data instanceof BigInt64Array) return new Tensor('int64', a.data, a.shape);
  if (a.data instanceof Float32Array) return new Tensor('float32', a.data, a.shape);
  if (a.data instanceof Float64Array) return new Tensor('float32', Float32Array.from(a.data), a.shape);
  throw new Error(`npz array of dtype ${a.descr} is not fed by these tests`);
}

export function floats(a: NpyContents | undefined, what = 'array'): Float32Array {
  if (!a) throw new Error(`${what} is missing`);
  return a.data instanceof Float32Array ? a.data : Float32Array.from(a.data as Float64Array);
}

export interface TransformerFixture {
  name: string;
  dir: string;
  // meta.json as the fixture script wrote it (see test/fixtures/transformers/README.md).
  meta: {
    loss: { kind: string; class_axis: number };
    exports: Record<Exporter, {
      inputs: { name: string }[];
      parameters: { initializer: string; pytorch: string | string[]; relation: string }[];
      non_parameters: { initializer: string }[];
      tied: [string, string, string][];
    }>;
  };
  model(exporter: Exporter): string;
  /** The reference batch's arrays as tensors: the ONNX inputs and `labels`. */
  batch(): Record<string, Tensor>;
  reference(exporter: Exporter): Map<string, NpyContents>;
  /** The training set (arrays named like the inputs, plus labels). */
  train(): Map<string, NpyContents>;
}

export const FIXTURE_NAMES = ['bert', 'distilbert', 'gpt2', 'vit', 'transformer-encoder', 'gru', 'lstm', 'bert-token'] as const;

export function transformerFixture(name: string): TransformerFixture {
  const dir = join(TRANSFORMERS, name);
  return {
    name,
    dir,
    // Python's json writes -Infinity and NaN bare (mask fill values): read them as strings.
    meta: JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8').replace(/(?<=[\[,:]\s*)(-?Infinity|NaN)\b/g, '"$1"')),
    model: (exporter) => join(dir, `model.${exporter}.onnx`),
    batch: () => Object.fromEntries([...readNpz(join(dir, 'batch.npz'))].map(([k, v]) => [k, npzTensor(v)])),
    reference: (exporter) => readNpz(join(dir, `reference.${exporter}.npz`)),
    train: () => readNpz(join(dir, 'train.npz')),
  };
}

/** Rows [start, start + count) of an npz array as a tensor (a batch of the training set). */
export function rows(a: NpyContents, start: number, count: number): Tensor {
  const per = a.shape.slice(1).reduce((x, d) => x * d, 1);
  const data = a.data.slice(start * per, (start + count) * per);
  const t = { ...a, data, shape: [count, ...a.shape.slice(1)] } as NpyContents;
  return npzTensor(t);
}

/** max |a - e| / max |e|: the measure of a gradient against its reference (1e-5 passes). */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`${actual.length} values, expected ${expected.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / (scale || 1);
}

/** The transpose of a [rows, cols] row-major matrix. */
export function transpose2d(data: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = data[i * cols + j];
  return out;
}
