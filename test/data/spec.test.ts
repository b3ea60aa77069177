import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parseDataSpec } from '../../src/data/index.js';

describe('parseDataSpec', () => {
  it.each([
    ['mnist', { kind: 'mnist', split: 'train' }],
    ['mnist:train', { kind: 'mnist', split: 'train' }],
    ['mnist:test', { kind: 'mnist', split: 'test' }],
    ['idx:a/img,b/lab', { kind: 'idx', images: 'a/img', labels: 'b/lab' }],
    ['npy:x.npy, y.npy', { kind: 'npy', features: 'x.npy', labels: 'y.npy' }],
    ['x.NPY,y.npy', { kind: 'npy', features: 'x.NPY', labels: 'y.npy' }],
    ['train-images-idx3-ubyte,train-labels-idx1-ubyte', { kind: 'idx', images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' }],
  ])('%s', (spec, expected) => {
    expect(parseDataSpec(spec)).toEqual(expected);
  });

  it('parses CSV options', () => {
    expect(parseDataSpec('csv:d/t.txt?label=y&header=0&sep=tab&scale=255')).toEqual({
      kind: 'csv',
      path: 'd/t.txt',
      options: { label: 'y', header: false, separator: '\t', scale: 255 },
    });
    expect(parseDataSpec('t.csv')).toEqual({ kind: 'csv', path: 't.csv', options: { label: -1, header: 'auto', separator: ',', scale: 1 } });
    expect(parseDataSpec('t.csv?label=-2')).toMatchObject({ options: { label: -2 } });
  });

  it.each([
    ['mnist:val', /unknown MNIST split/],
    ['idx:only-one', /needs exactly two paths: idx:IMAGES,LABELS/],
    ['npy:a,b,c', /needs exactly two paths/],
    ['csv:t.csv?colour=red', /unknown CSV option 'colour'/],
    ['csv:t.csv?scale=0', /scale=0 must be a positive number/],
    ['csv:t.csv?header=maybe', /header=maybe must be 1, 0 or auto/],
    ['data.bin', /cannot tell the format of data spec 'data\.bin'/],
  ])('rejects %s as a usage error', (spec, message) => {
    expect(() => parseDataSpec(spec)).toThrow(UsageError);
    expect(() => parseDataSpec(spec)).toThrow(message);
  });
});
