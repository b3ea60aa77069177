// The transformer and RNN fixtures (test/fixtures/transformers/, see its README) as tests use them: the exported
// model, meta.json, the reference batch as onnxruntime feeds (every ONNX input by name, with its dtype), and
// PyTorch's loss and gradients per ONNX initializer.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from 'onnxruntime-node';
import type { NpyContents } from '../src/data/npy.js';
import type { Model } from '../src/ir/model.js';
import { loadModel } from '../src/model-io.js';
import { EXPORTERS, npzTensor, readNpz, TRANSFORMERS, type Exporter } from './fixtures-npz.js';

export { EXPORTERS, type Exporter };

/** The fixtures whose loss is cross-entropy over [N, C] logits. */
export const CLASSIFIERS = ['bert', 'distilbert', 'vit', 'transformer-encoder', 'gru', 'lstm'] as const;
/** The fixtures with token-level losses (logits [N, T, C]). */
export const TOKEN_MODELS = ['gpt2', 'bert-token'] as const;

interface ExportMeta {
  file: string;
  inputs: { name: string; dtype: string; shape: (number | string)[] }[];
  parameters: { initializer: string; pytorch: string }[];
  non_parameters: { initializer: string }[];
}

export interface Fixture {
  name: string;
  exporter: Exporter;
  path: string;
  meta: ExportMeta;
  /** batch.npz: the inputs and `labels`. */
  batch: Map<string, NpyContents>;
  /** reference.<exporter>.npz: logits, loss, grad/<initializer>. */
  reference: Map<string, NpyContents>;
  /** Float initializers that are constants, not PyTorch parameters (frozen in these tests). */
  nonParameters: string[];
  /** meta.json's loss: its kind and the logits' class axis (1, or -1: classes last). */
  loss: { kind: string; class_axis: number };
}

export function loadFixture(name: string, exporter: Exporter): Fixture {
  const dir = join(TRANSFORMERS, name);
  // Python's json writes -Infinity and NaN (a masking constant's value), which JSON.parse does not take.
  const text = readFileSync(join(dir, 'meta.json'), 'utf8').replace(/-?\bInfinity\b|\bNaN\b/g, 'null');
  const json = JSON.parse(text);
  const meta = json.exports[exporter] as ExportMeta;
  return {
    name,
    exporter,
    path: join(dir, meta.file),
    meta,
    batch: readNpz(join(dir, 'batch.npz')),
    reference: readNpz(join(dir, `reference.${exporter}.npz`)),
    nonParameters: meta.non_parameters.map((p) => p.initializer),
    loss: json.loss,
  };
}

export const fixtureModel = (f: Fixture): Promise<Model> => loadModel(f.path);

/** Rows [0, rows) and, for [N, T, ...] arrays of ids, masks and sequences, tokens [0, tokens) of every array. */
export function sliceBatch(batch: Map<string, NpyContents>, rows: number, tokens?: number): Map<string, NpyContents> {
  const out = new Map<string, NpyContents>();
  for (const [name, a] of batch) {
    const shape = [rows, ...a.shape.slice(1)];
    if (tokens !== undefined && a.shape.length >= 2 && name !== 'pixel_values') shape[1] = tokens;
    const inner = a.shape.slice(2).reduce((p, q) => p * q, 1);
    const Ctor = a.data.constructor as new (n: number) => typeof a.data;
    const data = new Ctor(shape.reduce((p, q) => p * q, 1));
    for (let r = 0; r < rows; r++) {
      if (a.shape.length < 2) {
        (data as Float32Array)[r] = (a.data as Float32Array)[r];
        continue;
      }
      const rowLength = shape[1] * inner;
      const from = r * a.shape[1] * inner;
      (data as Float32Array).set((a.data as Float32Array).subarray(from, from + rowLength), r * rowLength);
    }
    out.set(name, { descr: a.descr, shape, data });
  }
  return out;
}

/** Feeds for every data input of the model from the batch arrays named after them, and the labels. */
export function feedsOf(f: Fixture, batch: Map<string, NpyContents> = f.batch): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  for (const input of f.meta.inputs) {
    const a = batch.get(input.name);
    if (!a) throw new Error(`${f.name}: batch.npz has no array '${input.name}'`);
    feeds[input.name] = npzTensor(a);
  }
  feeds.labels = npzTensor(batch.get('labels')!);
  return feeds;
}

/** PyTorch's gradient of each initializer that holds a parameter. */
export function referenceGradients(f: Fixture): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [key, a] of f.reference) if (key.startsWith('grad/')) out.set(key.slice(5), a.data as Float32Array);
  return out;
}

/**
 * PyTorch's loss of a fixture in float64: mean softmax cross-entropy of logits holding the classes on the last axis
 * ([N, C], or [N, T, V] with labels [N, T]) over the positions whose label is not -100 (`nn.CrossEntropyLoss()`'s
 * ignore_index); with `shift`, Hugging Face's causal-LM loss: position t's logits against label t + 1.
 */
export function referenceLoss(logits: Float32Array, dims: readonly number[], labels: BigInt64Array, opts: { shift?: boolean } = {}): number {
  const classes = dims[dims.length - 1];
  const steps = dims.length === 3 ? dims[1] : 1;
  let total = 0;
  let counted = 0;
  for (let position = 0; position < labels.length; position++) {
    const t = position % steps;
    if (opts.shift && t === steps - 1) continue;
    const label = Number(labels[opts.shift ? position + 1 : position]);
    if (label === -100) continue;
    const row = logits.subarray(position * classes, (position + 1) * classes);
    const max = Math.max(...row);
    total += max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0)) - row[label];
    counted++;
  }
  return total / counted;
}

/** Largest |x| over several arrays. */
export function largestMagnitude(arrays: Iterable<Float32Array>): number {
  let m = 0;
  for (const a of arrays) for (const x of a) m = Math.max(m, Math.abs(x));
  return m;
}
