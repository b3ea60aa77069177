/**
 * Bad data is refused at load with one line naming the file, the row and the column (issue #14: a NaN in an NPY
 * file or `Infinity` in a CSV file went through, the run failed later with `loss became NaN at epoch 1, batch 2`,
 * and the run folder it left blocked the corrected rerun into the same --out).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/data/index.js';
import { buildMlp } from '../../src/models/builders.js';
import { runCli } from '../cli/helpers.js';
import { writeModel } from '../training/fixtures/runs.js';
import { idxBytes, npyBytes, tempDir, writeFile } from './files.js';

const dir = tempDir();
const FIX = 'must be finite numbers (fix or drop that row)';

/** Features (n, 4) counting up, int64 labels i % 3, with `poison` put at flat index `at` of the features. */
function npyPair(name: string, n: number, poison?: { at: number; value: number }): { x: string; y: string } {
  const features = Float32Array.from({ length: n * 4 }, (_, i) => i / 10);
  if (poison) features[poison.at] = poison.value;
  const x = writeFile(dir, `${name}-x.npy`, npyBytes('<f4', [n, 4], features));
  const y = writeFile(dir, `${name}-y.npy`, npyBytes('<i8', [n], BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 3))));
  return { x, y };
}

describe('non-finite values', () => {
  it('an NPY NaN: file, row and column', async () => {
    const { x, y } = npyPair('nan', 10, { at: 3 * 4 + 2, value: NaN });
    await expect(loadDataset(`npy:${x},${y}`)).rejects.toThrow(`${x}: row 3, column 2 is NaN; features ${FIX}`);
  });

  it('an NPY sample of more than one dim is located by its coordinates; float64 beyond float32 is infinite', async () => {
    const values = new Float64Array(2 * 1 * 3 * 3).fill(0.5);
    values[9 + 5] = 1e300; // sample 1, position [0, 1, 2]
    const x = writeFile(dir, 'img-x.npy', npyBytes('<f8', [2, 1, 3, 3], values));
    const y = writeFile(dir, 'img-y.npy', npyBytes('<i8', [2], new BigInt64Array([0n, 1n])));
    await expect(loadDataset(`npy:${x},${y}`)).rejects.toThrow(`${x}: row 1, position [0, 1, 2] is Infinity; features ${FIX}`);
  });

  it('NPY targets of a regression loss', async () => {
    const x = writeFile(dir, 'reg-x.npy', npyBytes('<f4', [3, 1], new Float32Array([1, 2, 3])));
    const y = writeFile(dir, 'reg-y.npy', npyBytes('<f4', [3, 2], new Float32Array([1, 2, 3, -Infinity, 5, 6])));
    await expect(loadDataset(`npy:${x},${y}`, { targets: 'values' })).rejects.toThrow(`${y}: row 1, column 1 is -Infinity; targets ${FIX}`);
  });

  it("a CSV 'Infinity' (which Number() reads as a number): line and column", async () => {
    const path = writeFile(dir, 'inf.csv', 'a,b,label\n1,2,0\n3,Infinity,1\n');
    await expect(loadDataset(`csv:${path}`)).rejects.toThrow(`CSV file ${path} line 3 column 2 is Infinity; features ${FIX}`);
    const target = writeFile(dir, 'inf-target.csv', '1,2,0.5\n3,4,-Infinity\n');
    await expect(loadDataset(`csv:${target}`, { targets: 'values' })).rejects.toThrow(`CSV file ${target} line 2 column 3 is -Infinity; targets ${FIX}`);
  });

  it('an IDX float32 NaN', async () => {
    const images = writeFile(dir, 'nan.idx', idxBytes(0x0d, [2, 3], [1, 2, 3, 4, NaN, 6]));
    const labels = writeFile(dir, 'nan-labels.idx', idxBytes(0x08, [2], [0, 1]));
    await expect(loadDataset(`idx:${images},${labels}`)).rejects.toThrow(`${images}: row 1, column 1 is NaN; features ${FIX}`);
  });
});

describe('labels outside the model\'s classes', () => {
  const beyond = (label: number) => `label ${label} is outside the model's 3 classes (0 to 2); fix the labels, or give the model a head of more classes (regraft head MODEL -o NEW --classes N)`;

  it('NPY and IDX name the row; CSV names the line and column', async () => {
    const x = writeFile(dir, 'cls-x.npy', npyBytes('<f4', [4, 1], new Float32Array(4)));
    const y = writeFile(dir, 'cls-y.npy', npyBytes('<i8', [4], new BigInt64Array([0n, 2n, 3n, 1n])));
    await expect(loadDataset(`npy:${x},${y}`, { classes: 3 })).rejects.toThrow(`${y}: row 2: ${beyond(3)}`);
    const images = writeFile(dir, 'cls.idx', idxBytes(0x08, [3, 1], [1, 2, 3]));
    const labels = writeFile(dir, 'cls-labels.idx', idxBytes(0x08, [3], [0, 1, 7]));
    await expect(loadDataset(`idx:${images},${labels}`, { classes: 3 })).rejects.toThrow(`${labels}: row 2: ${beyond(7)}`);
    const csv = writeFile(dir, 'cls.csv', 'a,label\n0.5,1\n0.2,5\n');
    await expect(loadDataset(`csv:${csv}`, { classes: 3 })).rejects.toThrow(`CSV file ${csv} line 3 column 2: ${beyond(5)}`);
    // Without a class count (a model whose class dim is symbolic), labels are only checked to be indices.
    expect((await loadDataset(`csv:${csv}`)).numClasses).toBe(6);
  });
});

describe('regraft train on bad data', () => {
  it('fails at load in one line and writes nothing to --out; the corrected data trains into the same --out', async () => {
    const model = await writeModel(buildMlp({ inputs: 4, hidden: [8], classes: 3, seed: 1 }), dir, 'mlp4.onnx');
    const out = join(dir, 'run');
    const { x, y } = npyPair('train-nan', 40, { at: 17, value: NaN });
    const bad = await runCli('train', model, '--data', `npy:${x},${y}`, '--epochs', '1', '--out', out);
    expect(bad.err).toEqual([`regraft: ${x}: row 4, column 1 is NaN; features ${FIX}`]);
    expect(bad.code).toBe(1);
    expect(existsSync(out)).toBe(false);

    // Labels beyond the 3 logits, ragged CSV rows and mismatched row counts: one line each, nothing written.
    const labels = writeFile(dir, 'four-classes-y.npy', npyBytes('<i8', [40], BigInt64Array.from({ length: 40 }, (_, i) => BigInt(i % 4))));
    const ragged = join(dir, 'ragged.csv');
    writeFileSync(ragged, '1,2,3,4,0\n1,2,3,1\n');
    const fewer = writeFile(dir, 'fewer-y.npy', npyBytes('<i8', [39], new BigInt64Array(39)));
    for (const [data, message] of [
      [`npy:${npyPair('ok', 40).x},${labels}`, `${labels}: row 3: label 3 is outside the model's 3 classes (0 to 2)`],
      [`csv:${ragged}`, `CSV file ${ragged} line 2 has 4 fields, expected 5 like the first line`],
      [`npy:${npyPair('ok', 40).x},${fewer}`, `has 40 samples but ${fewer} has 39 labels`],
    ]) {
      const r = await runCli('train', model, '--data', data, '--epochs', '1', '--out', out);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).toContain(message);
      expect(r.code).toBe(1);
      expect(existsSync(out)).toBe(false);
    }

    const good = npyPair('train-ok', 40);
    const fixed = await runCli('train', model, '--data', `npy:${good.x},${good.y}`, '--epochs', '1', '--out', out);
    expect(fixed.err).toEqual([]);
    expect(fixed.code).toBe(0);
  });
});
