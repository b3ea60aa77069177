// Named data on the command line: what train, eval and run say about data that does not fit a model with several
// inputs (one line each, naming the input, array or file and what to do, exit 1, no run directory), and that
// --class-axis settles labels that fit both readings of the logits.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { npyBytes, tempDir, writeFile } from '../data/files.js';
import { transformerFixture } from '../fixtures-npz.js';
import { runCli } from './helpers.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/dtype.js';
import { newModel } from '../../src/ir/model.js';
import { writeModel } from '../training/fixtures/runs.js';

const dir = tempDir();
const bert = transformerFixture('bert');
const distilbert = transformerFixture('distilbert');
const bertToken = transformerFixture('bert-token');
const BERT = bert.model('dynamo');

/** An int64 array (N, ...) of `fill(i)` as an NPY file. */
function int64Npy(name: string, dims: number[], fill: (i: number) => number): string {
  const n = dims.reduce((a, d) => a * d, 1);
  return writeFile(dir, name, npyBytes('<i8', dims, BigInt64Array.from({ length: n }, (_, i) => BigInt(fill(i)))));
}

function float32Npy(name: string, dims: number[], fill: (i: number) => number): string {
  const n = dims.reduce((a, d) => a * d, 1);
  return writeFile(dir, name, npyBytes('<f4', dims, Float32Array.from({ length: n }, (_, i) => fill(i))));
}

const ids = int64Npy('ids.npy', [8, 6], (i) => 1 + (i % 50));
const mask = int64Npy('mask.npy', [8, 6], () => 1);
const types = int64Npy('types.npy', [8, 6], () => 0);
const labels = int64Npy('labels.npy', [8], (i) => i % 2);

/** `regraft train` of `model` on `data` into a fresh run directory: the result, and whether the directory exists. */
async function trainOn(model: string, data: string, ...more: string[]) {
  const out = join(dir, `run-${Math.random().toString(36).slice(2)}`);
  const r = await runCli('train', model, '--data', data, '--out', out, '--epochs', '1', '--batch-size', '4', '--val-split', '0', ...more);
  return { ...r, runDir: existsSync(out) };
}

/** One line on stderr, exit 1, no run directory. */
function refused(r: { code: number; err: string[]; runDir?: boolean }): string {
  expect(r.code).toBe(1);
  expect(r.err).toHaveLength(1);
  if (r.runDir !== undefined) expect(r.runDir).toBe(false);
  return r.err[0];
}

describe('named data that does not fit the model', () => {
  it('an input with no array names the input, the file and the array to add', async () => {
    const spec = `npz:${join(distilbert.dir, 'batch.npz')}`;
    const line = refused(await trainOn(BERT, spec));
    expect(line).toBe(`regraft: train: model input 'token_type_ids' has no array in ${spec} (arrays: input_ids, attention_mask, labels); add one named token_type_ids`);
    expect(refused(await runCli('eval', BERT, '--data', spec))).toMatch(/^regraft: model .*model\.dynamo\.onnx: model input 'token_type_ids' has no array in npz:/);
    expect(refused(await runCli('run', BERT, '--data', spec))).toMatch(/^regraft: run: model input 'token_type_ids' has no array in npz:.* add one named token_type_ids$/);
  });

  it('an array no input takes names the array and the inputs there are', async () => {
    const spec = `npz:${join(bert.dir, 'batch.npz')}`;
    const line = refused(await trainOn(distilbert.model('dynamo'), spec));
    expect(line).toBe(`regraft: train: array 'token_type_ids' of ${spec} is not an input of the model (its inputs: input_ids, attention_mask, and labels); rename it after the input it feeds or leave it out`);
  });

  it('arrays with different row counts name both arrays and their files', async () => {
    const short = int64Npy('mask-short.npy', [7, 6], () => 1);
    const line = refused(await trainOn(BERT, `npy:input_ids=${ids},attention_mask=${short},token_type_ids=${types},labels=${labels}`));
    expect(line).toBe(`regraft: array 'attention_mask' (${short}) has 7 rows but 'input_ids' has 8; every array needs one row per sample, in the same order`);
  });

  it('a dtype that cannot be converted names the file, the value, the row and the input', async () => {
    const fractional = float32Npy('ids-float.npy', [8, 6], (i) => (i === 13 ? 2.5 : 3));
    const line = refused(await trainOn(BERT, `npy:input_ids=${fractional},attention_mask=${mask},token_type_ids=${types},labels=${labels}`));
    expect(line).toBe(`regraft: ${fractional} holds 2.5 at row 2, which is not a whole number, but model input 'input_ids' takes int64; save the array as int64 with values it can hold (arr.astype(np.int64))`);
  });

  it('one feature array for a model of several inputs says to name an array per input', async () => {
    const features = float32Npy('features.npy', [8, 6], () => 1);
    const line = refused(await trainOn(BERT, `npy:${features},${labels}`));
    expect(line).toMatch(/^regraft: train: the model has 3 data inputs \(input_ids, attention_mask, token_type_ids\) but data 'npy:.*' is one feature array; give one array per input: --data npz:FILE\.npz or npy:input_ids=FILE\.npy,\.\.\.,labels=FILE\.npy$/);
  });

  it('labels that fit no reading of the logits give both readings', async () => {
    const tokenModel = bertToken.model('dynamo');
    const wrong = int64Npy('labels-5.npy', [8, 5], () => 1);
    const line = refused(await trainOn(tokenModel, `npy:input_ids=${ids},attention_mask=${mask},token_type_ids=${types},labels=${wrong}`));
    expect(line).toBe(
      `regraft: labels (${wrong}) of shape [N, 5] fit no reading of output 'logits' [N, 6, 4]: classes on axis 1 need labels [N, 4], classes last [N, 6]; give labels of one of these shapes`,
    );
  });

  it('labels that fit both readings ask for --class-axis, which then trains', async () => {
    // Sequences of 4 tokens on 4 classes: logits [N, 4, 4] read [N, C, T] or [N, T, V] alike.
    const ids4 = int64Npy('ids4.npy', [8, 4], (i) => 1 + (i % 30));
    const ones4 = int64Npy('mask4.npy', [8, 4], () => 1);
    const zeros4 = int64Npy('types4.npy', [8, 4], () => 0);
    const tokenLabels = int64Npy('labels4.npy', [8, 4], (i) => i % 4);
    const spec = `npy:input_ids=${ids4},attention_mask=${ones4},token_type_ids=${zeros4},labels=${tokenLabels}`;
    const line = refused(await trainOn(bertToken.model('dynamo'), spec));
    expect(line).toBe(
      `regraft: labels (${tokenLabels}) of shape [N, 4] fit output 'logits' [N, 4, 4] both ways (classes on axis 1, as PyTorch and ONNX, or last, as Hugging Face); say which with --class-axis 1 or --class-axis -1`,
    );
    const ok = await trainOn(bertToken.model('dynamo'), spec, '--class-axis', '-1');
    expect(ok.err).toEqual([]);
    expect(ok.code).toBe(0);
    const usage = await runCli('train', BERT, '--data', spec, '--out', join(dir, 'x'), '--class-axis', '2');
    expect(usage.code).toBe(2);
    expect(usage.err[0]).toBe('regraft: --class-axis must be 1 or -1, got 2');
  });
});

describe('labels per pixel from a feature file and a label file', () => {
  it('a 1x1-conv segmenter trains on (N, H, W) labels, exports, and eval scores every counted pixel', async () => {
    // logits [N, 3, 4, 4] (classes on axis 1) from x [N, 2, 4, 4]; the label of a pixel is which of 3 bands its
    // first channel falls in, and a pixel with a negative second channel is unlabelled (-100).
    const m = newModel({ opset: 17 });
    const b = new GraphBuilder(m.graph);
    const x = m.graph.addInput('x').setTensorType(DataType.FLOAT, ['N', 2, 4, 4]);
    const w = b.floatInit('conv.weight', Array.from({ length: 6 }, (_, i) => 0.1 * (i - 2.5)), [3, 2, 1, 1]);
    const bias = b.floatInit('conv.bias', [0, 0.1, -0.1], [3]);
    m.graph.addOutput(b.op('Conv', [x, w, bias], {}, { output: 'logits' }).setTensorType(DataType.FLOAT, ['N', 3, 4, 4]));
    const model = await writeModel(m, dir, 'segmenter.onnx');
    const n = 64;
    const rng = (i: number) => Math.sin(i * 12.9898) * 0.5 + Math.cos(i * 4.1414) * 0.5;
    const features = Float32Array.from({ length: n * 32 }, (_, i) => rng(i));
    const pixelLabels = Array.from({ length: n * 16 }, (_, p) => {
      const row = Math.floor(p / 16);
      const first = features[row * 32 + (p % 16)];
      const second = features[row * 32 + 16 + (p % 16)];
      return second < -0.8 ? -100 : first < -0.3 ? 0 : first < 0.3 ? 1 : 2;
    });
    const xs = writeFile(dir, 'seg-x.npy', npyBytes('<f4', [n, 2, 4, 4], features));
    const ys = int64Npy('seg-y.npy', [n, 4, 4], (i) => pixelLabels[i]);
    const spec = `npy:${xs},${ys}`;
    const out = join(dir, 'seg-run');
    const exported = join(dir, 'seg.onnx');
    const r = await runCli('train', model, '--data', spec, '--out', out, '--epochs', '3', '--batch-size', '8', '--optimizer', 'adam', '--lr', '0.05', '--val-split', '0', '--export', exported);
    expect(r.err, r.err.join('\n')).toEqual([]);
    const before = JSON.parse((await runCli('eval', model, '--data', spec, '--json')).out[0]);
    const after = JSON.parse((await runCli('eval', exported, '--data', spec, '--json')).out[0]);
    const counted = pixelLabels.filter((y) => y !== -100).length;
    expect(before.positions).toBe(counted);
    expect(after.positions).toBe(counted);
    expect(after.loss).toBeLessThan(before.loss * 0.8);
    expect(after.accuracy).toBeGreaterThan(before.accuracy);
  });
});
