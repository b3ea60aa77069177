import { describe, expect, it } from 'vitest';
import { BatchLoader, selectSamples, splitDataset, subsetDataset, type Batch, type Dataset } from '../../src/data/index.js';

/** n samples of 2 features; sample i holds [i, -i] and label i % 3, so a batch shows which samples it gathered. */
function numbered(n: number): Dataset {
  const features = new Float32Array(2 * n);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    features[2 * i] = i;
    features[2 * i + 1] = -i;
    labels[i] = i % 3;
  }
  return { name: 'numbered', size: n, sampleShape: [2], features, labels, numClasses: 3 };
}

/** The sample ids of each batch, copied out because the loader reuses its buffers. */
function sampleIds(batches: Iterable<Batch>): number[][] {
  const out: number[][] = [];
  for (const b of batches) {
    const ids: number[] = [];
    for (let k = 0; k < b.size; k++) {
      expect(b.features[2 * k + 1]).toBe(-b.features[2 * k]);
      expect(b.labels[k]).toBe(BigInt(b.features[2 * k] % 3));
      ids.push(b.features[2 * k]);
    }
    out.push(ids);
  }
  return out;
}

describe('BatchLoader', () => {
  const ds = numbered(10);

  it('visits every sample once per epoch, with the last partial batch kept', () => {
    const loader = new BatchLoader(ds, { batchSize: 4, seed: 7 });
    expect(loader.batchesPerEpoch).toBe(3);
    const batches = [...loader.batches(0)].map((b) => ({ size: b.size, dims: b.featureDims, index: b.index, labels: b.labels.length }));
    expect(batches).toEqual([
      { size: 4, dims: [4, 2], index: 0, labels: 4 },
      { size: 4, dims: [4, 2], index: 1, labels: 4 },
      { size: 2, dims: [2, 2], index: 2, labels: 2 },
    ]);
    const ids = sampleIds(loader.batches(0)).flat();
    expect([...ids].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(ids).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('drops the last partial batch when asked', () => {
    const loader = new BatchLoader(ds, { batchSize: 4, seed: 7, dropLast: true });
    expect(sampleIds(loader.batches(3)).map((b) => b.length)).toEqual([4, 4]);
  });

  it('reshuffles every epoch, reproducibly from (seed, epoch) alone', () => {
    const a = new BatchLoader(ds, { batchSize: 3, seed: 42 });
    const b = new BatchLoader(ds, { batchSize: 3, seed: 42 });
    // b jumps straight to epoch 5 without going through the earlier ones.
    expect(sampleIds(b.batches(5))).toEqual(sampleIds(a.batches(5)));
    expect(a.epochOrder(0)).toEqual(b.epochOrder(0));
    expect(a.epochOrder(1)).not.toEqual(a.epochOrder(0));
    expect(new BatchLoader(ds, { batchSize: 3, seed: 43 }).epochOrder(0)).not.toEqual(a.epochOrder(0));
    expect([...a.epochOrder(9)].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('resumes an epoch at batch k with the same batches', () => {
    const loader = new BatchLoader(ds, { batchSize: 3, seed: 1 });
    const full = sampleIds(loader.batches(2));
    expect(sampleIds(loader.batches(2, 2))).toEqual(full.slice(2));
    expect(sampleIds(loader.batches(2, loader.batchesPerEpoch))).toEqual([]);
    expect([...loader.batches(2, 2)][0].index).toBe(2);
    expect(() => [...loader.batches(2, 5)]).toThrow(/cannot start epoch 2 of numbered at batch 5; it has 4 batches/);
  });

  it('walks the samples in order without shuffling, and reuses its buffers', () => {
    const loader = new BatchLoader(ds, { batchSize: 5, seed: 0, shuffle: false });
    const buffers = new Set<ArrayBufferLike>();
    const ids = sampleIds(
      (function* () {
        for (const b of loader.batches(0)) {
          buffers.add(b.features.buffer);
          yield b;
        }
      })(),
    );
    expect(ids).toEqual([
      [0, 1, 2, 3, 4],
      [5, 6, 7, 8, 9],
    ]);
    expect(buffers.size).toBe(1);
  });

  it('draws only from the given indices and shapes batches as asked', () => {
    const loader = new BatchLoader(ds, { batchSize: 2, seed: 3, indices: [8, 1, 5], sampleShape: [1, 2] });
    expect(loader.numSamples).toBe(3);
    const batches = [...loader.batches(0)];
    expect(batches[0].featureDims).toEqual([2, 1, 2]);
    expect(sampleIds(loader.batches(0)).flat().sort((a, b) => a - b)).toEqual([1, 5, 8]);
  });

  it('rejects bad settings', () => {
    expect(() => new BatchLoader(ds, { batchSize: 0, seed: 0 })).toThrow(/batch size 0 for numbered/);
    expect(() => new BatchLoader(ds, { batchSize: 2, seed: 0, indices: [10] })).toThrow(/sample index 10 is outside numbered \(size 10\)/);
    expect(() => new BatchLoader(ds, { batchSize: 2, seed: 0, sampleShape: [3] })).toThrow(/sample shape \[3\] does not hold the 2 values/);
    expect(() => new BatchLoader(ds, { batchSize: 20, seed: 0, dropLast: true })).toThrow(/fewer than one batch of 20/);
  });
});

describe('splitDataset', () => {
  const ds = numbered(100);

  it('splits the indices into disjoint, complete, sorted parts, the same for the same seed', () => {
    const { train, val } = splitDataset(ds, 0.2, 5);
    expect(val.length).toBe(20);
    expect(train.length).toBe(80);
    expect([...train, ...val].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect([...val]).toEqual([...val].sort((a, b) => a - b));
    expect(splitDataset(ds, 0.2, 5)).toEqual({ train, val });
    expect(splitDataset(ds, 0.2, 6).val).not.toEqual(val);
  });

  it('allows no validation set and rejects fractions outside [0, 1)', () => {
    expect(splitDataset(ds, 0, 1).val.length).toBe(0);
    expect(() => splitDataset(ds, 1, 1)).toThrow(/validation fraction 1 for numbered must be in \[0, 1\)/);
    expect(() => splitDataset(numbered(3), 0.01, 1)).toThrow(/leaves one side empty/);
  });
});

describe('subsetDataset and selectSamples', () => {
  const ds = numbered(10);

  it('takes the first n samples without copying', () => {
    const sub = subsetDataset(ds, 4);
    expect(sub.size).toBe(4);
    expect(sub.name).toBe('numbered[:4]');
    expect(sub.features.buffer).toBe(ds.features.buffer);
    expect(Array.from(sub.labels)).toEqual([0, 1, 2, 0]);
    expect(sub.numClasses).toBe(3);
    expect(subsetDataset(ds, 50).size).toBe(10);
    expect(() => subsetDataset(ds, 0)).toThrow(/cannot take 0 samples of numbered/);
  });

  it('copies chosen samples in order', () => {
    const picked = selectSamples(ds, [7, 2]);
    expect(Array.from(picked.features)).toEqual([7, -7, 2, -2]);
    expect(Array.from(picked.labels)).toEqual([1, 2]);
  });
});
