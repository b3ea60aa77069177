// Named arrays: np.savez_compressed's archive read through the zip reader, a damaged archive refused, casting that
// never changes a value, the API's typed arrays checked, and batches that keep a sample's rows together.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { castArray, loadNamedArrays, NamedBatchLoader, namedArrays, readZip } from '../../src/data/index.js';
import { TRANSFORMERS } from '../fixtures-npz.js';
import { tempDir } from './files.js';

const COMPRESSED = join(import.meta.dirname, '..', 'fixtures', 'named-data', 'compressed.npz');
const dir = tempDir();

describe('npz archives', () => {
  it("reads np.savez_compressed's deflated members with their dtypes and shapes", async () => {
    const a = await loadNamedArrays(`npz:${COMPRESSED}`);
    expect(a.rows).toBe(3);
    expect([...a.arrays.keys()]).toEqual(['input_ids', 'attention_mask', 'pixel_values', 'labels']);
    const ids = a.arrays.get('input_ids')!;
    expect(ids.type).toBe('int64');
    expect(ids.dims).toEqual([3, 4]);
    expect(Array.from(ids.data as BigInt64Array, Number)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const mask = a.arrays.get('attention_mask')!;
    expect(mask.type).toBe('bool');
    expect(Array.from(mask.data as Uint8Array)).toEqual([1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0]);
    expect(a.arrays.get('pixel_values')!.type).toBe('float64');
    expect(Array.from(a.arrays.get('labels')!.data as Int32Array)).toEqual([0, 1, -100]);
    expect(a.arrays.get('labels')!.source).toBe(`${COMPRESSED}:labels`);
  });

  it("reads np.savez's stored members (the fixtures' train.npz) and the same path without the prefix", async () => {
    const path = join(TRANSFORMERS, 'bert', 'train.npz');
    const a = await loadNamedArrays(path);
    expect([...a.arrays.keys()].sort()).toEqual(['attention_mask', 'input_ids', 'labels', 'token_type_ids']);
    expect(a.rows).toBe(320);
  });

  it('a damaged member is refused naming the archive, not read as other numbers', () => {
    const bytes = new Uint8Array(readFileSync(COMPRESSED));
    // Flip a byte inside the first member's deflated data (after its 30-byte local header and name).
    const damaged = bytes.slice();
    damaged[30 + 'input_ids.npy'.length + 40] ^= 0xff;
    expect(() => readZip(damaged, 'damaged.npz')).toThrow(/^damaged\.npz /);
    expect(() => readZip(new TextEncoder().encode('not a zip at all, just text'), 'text.npz')).toThrow(/^text\.npz is not a zip archive regraft reads/);
  });

  it('an npz file that is missing names the path', async () => {
    await expect(loadNamedArrays(`npz:${join(dir, 'nowhere.npz')}`)).rejects.toThrow(/nowhere\.npz/);
  });
});

describe('casting to an input type', () => {
  const arrays = namedArrays({
    ids: { data: Float32Array.of(1, 2, 3.5, 4), dims: [2, 2] },
    mask: { data: Int32Array.of(1, 0, 2, 1), dims: [2, 2] },
    big: { data: Float64Array.of(1e39, 0), dims: [2] },
  }, 'toy');

  it('whole floats become int64 ids, a fraction is refused with its row', () => {
    const whole = castArray({ ...arrays.arrays.get('ids')!, data: Float32Array.of(1, 2, 3, 4) }, 'int64', "model input 'ids'");
    expect(Array.from(whole.data as BigInt64Array, Number)).toEqual([1, 2, 3, 4]);
    expect(() => castArray(arrays.arrays.get('ids')!, 'int64', "model input 'ids'")).toThrow(
      "toy:ids holds 3.5 at row 1, which is not a whole number, but model input 'ids' takes int64; save the array as int64 with values it can hold (arr.astype(np.int64))",
    );
  });

  it('a mask of 2 does not become true; a float beyond float32 does not become infinite', () => {
    expect(() => castArray(arrays.arrays.get('mask')!, 'bool', "model input 'mask'")).toThrow(/toy:mask holds 2 at row 1, which is neither 0 nor 1/);
    expect(() => castArray(arrays.arrays.get('big')!, 'float32', "model input 'x'")).toThrow(/toy:big holds 1e\+39 at row 0, outside float32's range/);
  });

  it("the API's arrays are checked: dims against length, a type against its typed array", () => {
    expect(() => namedArrays({ x: { data: new Float32Array(5), dims: [2, 2] } })).toThrow("array 'x' of arrays: dims [2, 2] need 4 values, it holds 5");
    expect(() => namedArrays({ x: { data: new Float32Array(4), dims: [2, 2], type: 'int64' } })).toThrow("array 'x' of arrays: type 'int64' does not match its Float32Array");
    expect(() => namedArrays({ x: { data: new Float32Array(4), dims: [2, 2] }, y: { data: new Float32Array(3), dims: [3] } })).toThrow(
      "array 'y' (arrays:y) has 3 rows but 'x' has 2; every array needs one row per sample, in the same order",
    );
  });
});

describe('batches of named arrays', () => {
  it('shuffling moves whole rows: the ids, mask and label of a sample stay together', () => {
    const n = 50;
    const arrays = namedArrays({
      input_ids: { data: BigInt64Array.from({ length: n * 3 }, (_, i) => BigInt(Math.floor(i / 3) * 10 + (i % 3))), dims: [n, 3] },
      attention_mask: { data: Uint8Array.from({ length: n * 3 }, (_, i) => Math.floor(i / 3) % 2), dims: [n, 3], type: 'bool' },
      labels: { data: BigInt64Array.from({ length: n }, (_, i) => BigInt(i)), dims: [n] },
    });
    const loader = new NamedBatchLoader(arrays, { batchSize: 8, seed: 3 });
    const seen: number[] = [];
    for (const batch of loader.batches(1)) {
      const ids = batch.arrays.input_ids.data as BigInt64Array;
      const mask = batch.arrays.attention_mask.data as Uint8Array;
      const labels = batch.arrays.labels.data as BigInt64Array;
      for (let k = 0; k < batch.size; k++) {
        const sample = Number(labels[k]);
        seen.push(sample);
        expect(Array.from(ids.subarray(k * 3, k * 3 + 3), Number)).toEqual([sample * 10, sample * 10 + 1, sample * 10 + 2]);
        expect(Array.from(mask.subarray(k * 3, k * 3 + 3))).toEqual([sample % 2, sample % 2, sample % 2]);
      }
    }
    expect(seen).not.toEqual([...seen].sort((a, b) => a - b));
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
  });
});
