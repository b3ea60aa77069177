import { describe, expect, it } from 'vitest';
import { RegraftError } from '../../src/errors.js';
import { loadDataset } from '../../src/data/index.js';
import { idxBytes, npyBytes, tempDir, writeFile } from './files.js';

const dir = tempDir();

describe('IDX', () => {
  it('loads uint8 images scaled to [0,1] with their labels', async () => {
    const images = writeFile(dir, 'img.idx', idxBytes(0x08, [3, 2, 2], [0, 255, 51, 102, 1, 2, 3, 4, 255, 255, 0, 0]));
    const labels = writeFile(dir, 'lab.idx', idxBytes(0x08, [3], [2, 0, 1]));
    const ds = await loadDataset(`idx:${images},${labels}`);
    expect(ds.size).toBe(3);
    expect(ds.sampleShape).toEqual([2, 2]);
    expect(Array.from(ds.features.subarray(0, 4))).toEqual([0, 1, 0.2, 0.4].map(Math.fround));
    expect(Array.from(ds.labels)).toEqual([2, 0, 1]);
    expect(ds.numClasses).toBe(3);
    expect(ds.name).toBe(`idx:${images},${labels}`);
  });

  it('keeps float32 values as they are and reads int16 labels; a bare pair of paths means IDX', async () => {
    const images = writeFile(dir, 'f.idx', idxBytes(0x0d, [2, 3], [1.5, -2, 3, 4, 5, 6]));
    const labels = writeFile(dir, 'l16.idx', idxBytes(0x0b, [2], [4, 1]));
    const ds = await loadDataset(`${images},${labels}`);
    expect(ds.sampleShape).toEqual([3]);
    expect(Array.from(ds.features)).toEqual([1.5, -2, 3, 4, 5, 6]);
    expect(Array.from(ds.labels)).toEqual([4, 1]);
    expect(ds.numClasses).toBe(5);
  });

  it('rejects a wrong magic, naming the file', async () => {
    const bad = writeFile(dir, 'bad-magic.idx', new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]));
    const labels = writeFile(dir, 'ok-labels.idx', idxBytes(0x08, [1], [0]));
    await expect(loadDataset(`idx:${bad},${labels}`)).rejects.toThrow(/bad-magic\.idx is not an IDX file: magic bytes 1f 8b 08 00/);
  });

  it('rejects a truncated file', async () => {
    const full = idxBytes(0x08, [2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    const images = writeFile(dir, 'short.idx', full.subarray(0, full.length - 3));
    const labels = writeFile(dir, 'two.idx', idxBytes(0x08, [2], [0, 1]));
    await expect(loadDataset(`idx:${images},${labels}`)).rejects.toThrow(/short\.idx is truncated: shape \[2,2,2\] of uint8 needs 24 bytes, the file has 21/);
  });

  it('rejects a count mismatch between images and labels', async () => {
    const images = writeFile(dir, 'three.idx', idxBytes(0x08, [3, 1], [1, 2, 3]));
    const labels = writeFile(dir, 'two-labels.idx', idxBytes(0x08, [2], [0, 1]));
    await expect(loadDataset(`idx:${images},${labels}`)).rejects.toThrow(/three\.idx has 3 samples but .*two-labels\.idx has 2 labels/);
  });

  it('rejects float labels', async () => {
    const images = writeFile(dir, 'one.idx', idxBytes(0x08, [1, 1], [1]));
    const labels = writeFile(dir, 'float-labels.idx', idxBytes(0x0d, [1], [0.5]));
    await expect(loadDataset(`idx:${images},${labels}`)).rejects.toThrow(/float-labels\.idx holds float32; labels must be an integer type/);
  });

  it('rejects a negative label', async () => {
    const images = writeFile(dir, 'one-more.idx', idxBytes(0x08, [2, 1], [1, 2]));
    const labels = writeFile(dir, 'signed-labels.idx', idxBytes(0x09, [2], [0, -1]));
    await expect(loadDataset(`idx:${images},${labels}`)).rejects.toThrow(/label -1 of sample 1 in .*signed-labels\.idx is negative/);
  });

  it('reports a missing file by path as a RegraftError', async () => {
    const labels = writeFile(dir, 'any-labels.idx', idxBytes(0x08, [1], [0]));
    const err = await loadDataset(`idx:${dir}/nope.idx,${labels}`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegraftError);
    expect((err as Error).message).toMatch(/^data file not found: .*nope\.idx; check the path/);
  });
});

describe('CSV', () => {
  it('uses the last column as the label by default and detects a header', async () => {
    const path = writeFile(dir, 'iris.csv', 'a,b,species\n0.5,1.5,2\n-1,2,0\n\n');
    const ds = await loadDataset(`csv:${path}`);
    expect(ds.size).toBe(2);
    expect(ds.sampleShape).toEqual([2]);
    expect(Array.from(ds.features)).toEqual([0.5, 1.5, -1, 2]);
    expect(Array.from(ds.labels)).toEqual([2, 0]);
    expect(ds.numClasses).toBe(3);
  });

  it('takes the label column by index or header name, a separator and a scale; bare .csv paths work', async () => {
    const path = writeFile(dir, 'pixels.csv', 'label;p0;p1\r\n7;0;255\r\n3;51;102\r\n');
    const byName = await loadDataset(`csv:${path}?label=label&sep=;&scale=255`);
    expect(Array.from(byName.labels)).toEqual([7, 3]);
    expect(Array.from(byName.features)).toEqual([0, 1, 0.2, 0.4].map(Math.fround));
    const byIndex = await loadDataset(`${path}?label=0&header=1&sep=;`);
    expect(Array.from(byIndex.features)).toEqual([0, 255, 51, 102]);
  });

  it('reads a headerless file when header=0', async () => {
    const path = writeFile(dir, 'plain.csv', '1,2,0\n3,4,1\n');
    const ds = await loadDataset(`csv:${path}?header=0`);
    expect(ds.size).toBe(2);
  });

  it('names the line of a row with the wrong number of fields', async () => {
    const path = writeFile(dir, 'ragged.csv', 'x,y,label\n1,2,0\n3,1\n');
    await expect(loadDataset(`csv:${path}`)).rejects.toThrow(/ragged\.csv line 3 has 2 fields, expected 3/);
  });

  it('names the line and column of a value that is not a number', async () => {
    const path = writeFile(dir, 'text.csv', '1,2,0\n1,abc,1\n');
    await expect(loadDataset(`csv:${path}`)).rejects.toThrow(/text\.csv line 2 column 2 is not a number: 'abc'/);
  });

  it('rejects an empty field rather than reading it as 0', async () => {
    const path = writeFile(dir, 'blank.csv', '1,2,0\n1,,1\n');
    await expect(loadDataset(`csv:${path}`)).rejects.toThrow(/blank\.csv line 2 column 2 is not a number/);
  });

  it('rejects a label that is not a class index', async () => {
    const path = writeFile(dir, 'frac.csv', '1,2,0\n1,2,0.5\n');
    await expect(loadDataset(`csv:${path}`)).rejects.toThrow(/frac\.csv line 2: label '0\.5' is not a class index/);
  });

  it('rejects an unknown label column name', async () => {
    const path = writeFile(dir, 'named.csv', 'a,b\n1,0\n');
    await expect(loadDataset(`csv:${path}?label=target`)).rejects.toThrow(/named\.csv has no column 'target'; its columns are a, b/);
  });
});

describe('NPY', () => {
  it.each([1, 2, 3])('reads format version %i.0 float32 features with int64 labels', async (major) => {
    const features = writeFile(dir, `x${major}.npy`, npyBytes('<f4', [2, 3], Float32Array.of(1, 2, 3, 4, 5, 6.5), { major }));
    const labels = writeFile(dir, `y${major}.npy`, npyBytes('<i8', [2], BigInt64Array.of(1n, 0n), { major }));
    const ds = await loadDataset(`npy:${features},${labels}`);
    expect(ds.sampleShape).toEqual([3]);
    expect(Array.from(ds.features)).toEqual([1, 2, 3, 4, 5, 6.5]);
    expect(Array.from(ds.labels)).toEqual([1, 0]);
  });

  it('scales uint8 features, keeps float64 and int32 values, accepts (N,1) labels; bare .npy pairs work', async () => {
    const y = writeFile(dir, 'y-col.npy', npyBytes('<i4', [2, 1], Int32Array.of(3, 1)));
    const u8 = writeFile(dir, 'u8.npy', npyBytes('|u1', [2, 1, 2], Uint8Array.of(0, 255, 51, 102)));
    const images = await loadDataset(`${u8},${y}`);
    expect(images.sampleShape).toEqual([1, 2]);
    expect(Array.from(images.features)).toEqual([0, 1, 0.2, 0.4].map(Math.fround));
    expect(Array.from(images.labels)).toEqual([3, 1]);
    const f8 = writeFile(dir, 'f8.npy', npyBytes('<f8', [2, 2], Float64Array.of(0.25, -3, 1e3, 7)));
    expect(Array.from((await loadDataset(`npy:${f8},${y}`)).features)).toEqual([0.25, -3, 1000, 7]);
    const i4 = writeFile(dir, 'i4.npy', npyBytes('<i4', [2, 1], Int32Array.of(-5, 9)));
    expect(Array.from((await loadDataset(`npy:${i4},${y}`)).features)).toEqual([-5, 9]);
  });

  it('rejects Fortran order with a fix', async () => {
    const x = writeFile(dir, 'fortran.npy', npyBytes('<f4', [2, 2], Float32Array.of(1, 2, 3, 4), { fortran: true }));
    const y = writeFile(dir, 'y2.npy', npyBytes('<i8', [2], BigInt64Array.of(0n, 1n)));
    await expect(loadDataset(`npy:${x},${y}`)).rejects.toThrow(/fortran\.npy is in Fortran \(column-major\) order; .*ascontiguousarray/);
  });

  it('rejects an unsupported dtype, naming it and the file', async () => {
    const x = writeFile(dir, 'half.npy', npyBytes('<f2', [2], Uint16Array.of(0, 0)));
    const y = writeFile(dir, 'y3.npy', npyBytes('<i8', [2], BigInt64Array.of(0n, 1n)));
    await expect(loadDataset(`npy:${x},${y}`)).rejects.toThrow(/half\.npy has dtype '<f2'; regraft reads <f4 <f8 <i4 <i8 \|u1/);
  });

  it('rejects float labels', async () => {
    const x = writeFile(dir, 'x4.npy', npyBytes('<f4', [1, 1], Float32Array.of(1)));
    const y = writeFile(dir, 'yf.npy', npyBytes('<f4', [1], Float32Array.of(1)));
    await expect(loadDataset(`npy:${x},${y}`)).rejects.toThrow(/yf\.npy has dtype '<f4'; labels must be integers/);
  });

  it('rejects a truncated data section and a count mismatch', async () => {
    const full = npyBytes('<f4', [2, 2], Float32Array.of(1, 2, 3, 4));
    const short = writeFile(dir, 'short.npy', full.subarray(0, full.length - 4));
    const y = writeFile(dir, 'y5.npy', npyBytes('<i8', [2], BigInt64Array.of(0n, 1n)));
    await expect(loadDataset(`npy:${short},${y}`)).rejects.toThrow(/short\.npy is truncated: shape \(2, 2\) of <f4 needs 16 data bytes, the file has 12/);
    const three = writeFile(dir, 'y3x.npy', npyBytes('<i8', [3], BigInt64Array.of(0n, 1n, 2n)));
    const x = writeFile(dir, 'x5.npy', full);
    await expect(loadDataset(`npy:${x},${three}`)).rejects.toThrow(/x5\.npy has 2 samples but .*y3x\.npy has 3 labels/);
  });

  it('rejects a file that is not NPY', async () => {
    const x = writeFile(dir, 'text.npy', 'hello world, not numpy');
    const y = writeFile(dir, 'y6.npy', npyBytes('<i8', [1], BigInt64Array.of(0n)));
    await expect(loadDataset(`npy:${x},${y}`)).rejects.toThrow(/text\.npy is not an NPY file/);
  });
});
