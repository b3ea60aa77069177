import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { confusionTable } from '../../src/cli/evaluation-format.js';
import { safeFileStem } from '../../src/cli/run.js';
import { runCli } from './helpers.js';
import { encodeNpy, parseNpy } from '../../src/data/npy.js';
import { DataType, GraphBuilder, newModel } from '../../src/ir/index.js';
import { saveModel } from '../../src/model-io.js';

const dir = mkdtempSync(join(tmpdir(), 'regraft-eval-run-'));

// logits = Gemm(x, W), x float [N, 2], W [2, 3] = [[1, 0, -1], [0, 2, 1]]; plus copy = Identity(logits) under a
// name that is not a safe file name. W is listed as an input too, with its stored value.
async function writeGemmModel(): Promise<string> {
  const model = newModel({ opset: 17 });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const x = g.addInput('x').setTensorType(DataType.FLOAT, ['N', 2]);
  const w = b.floatInit('W', [1, 0, -1, 0, 2, 1], [2, 3]);
  g.exposeAsInput(w); // an input with a stored value: onnxruntime would ignore a feed for it
  const logits = b.op('Gemm', [x, w], {}, { output: 'logits' });
  g.addOutput(logits.setTensorType(DataType.FLOAT, ['N', 3]));
  g.addOutput(b.op('Identity', [logits], {}, { output: '../escape:1' }).setTensorType(DataType.FLOAT, ['N', 3]));
  const path = join(dir, 'gemm.onnx');
  await saveModel(model, path);
  return path;
}

const MODEL = writeGemmModel();

function writeNpy(name: string, descr: string, shape: number[], data: ArrayBufferView): string {
  const path = join(dir, name);
  writeFileSync(path, encodeNpy(descr, shape, data));
  return path;
}

describe('regraft eval', () => {
  // x rows give predictions 0, 1, 1, 0, 0 against labels 0, 1, 2, 0, 1: 3 of 5 right.
  const data = join(dir, 'toy.csv');
  writeFileSync(data, ['1,0,0', '0,1,1', '1,1,2', '2,0,0', '0,0,1'].join('\n') + '\n');

  it('prints loss, accuracy in percent and an aligned confusion matrix', async () => {
    const r = await runCli('eval', await MODEL, '--data', `csv:${data}`, '--batch-size', '2');
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.out).toContain('samples   5');
    expect(r.out).toContain('accuracy  60.00%');
    expect(r.out.find((l) => l.startsWith('loss'))).toMatch(/^loss {6}\d+\.\d{4}$/);
    expect(r.out.slice(-5)).toEqual(['  | 0 1 2', '--+------', '0 | 2 0 0', '1 | 1 1 0', '2 | 0 1 0']);
  });

  it('--json prints exactly accuracy, loss, samples, confusion', async () => {
    const r = await runCli('eval', await MODEL, '--data', `csv:${data}`, '--json');
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.out).toHaveLength(1);
    const parsed = JSON.parse(r.out[0]);
    expect(Object.keys(parsed)).toEqual(['accuracy', 'loss', 'samples', 'confusion']);
    expect(r.out[0]).toMatch(/^\{"accuracy": 0\.6, "loss": [\d.]+, "samples": 5, "confusion": \[\[2, 0, 0\], \[1, 1, 0\], \[0, 1, 0\]\]\}$/);
  });

  it('reports a missing --data as a usage error and a bad model as one line', async () => {
    expect((await runCli('eval', await MODEL)).code).toBe(2);
    const r = await runCli('eval', join(dir, 'absent.onnx'), '--data', `csv:${data}`);
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toContain('absent.onnx');
  });

  it('--target picks the scored output (--output still works); naming a missing one says how', async () => {
    const byTarget = await runCli('eval', await MODEL, '--data', `csv:${data}`, '--json', '--target', 'logits');
    const byOutput = await runCli('eval', await MODEL, '--data', `csv:${data}`, '--json', '--output', 'logits');
    expect(byTarget.out).toEqual(byOutput.out);
    expect(JSON.parse(byTarget.out[0]).accuracy).toBe(0.6);
    const missing = await runCli('eval', await MODEL, '--data', `csv:${data}`, '--target', 'probs');
    expect(missing.code).toBe(1);
    expect(missing.err[0]).toMatch(/has no output 'probs' \(outputs: logits, \.\.\/escape:1\); pick the logits with --target$/);
    const both = await runCli('eval', await MODEL, '--data', `csv:${data}`, '--target', 'logits', '--output', 'probs');
    expect(both.code).toBe(2);
  });

  it('aligns wide counts', () => {
    expect(confusionTable([[1234, 5], [0, 77]])).toEqual(['     |    0    1', '-----+----------', '   0 | 1234    5', '   1 |    0   77']);
  });
});

describe('regraft run', () => {
  const x = writeNpy('x.npy', '<f4', [3, 2], Float32Array.of(1, 0, 0, 1, 1, 1));

  it('prints each output with dtype, shape and the first values', async () => {
    const r = await runCli('run', await MODEL, '--input', `x=${x}`);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.out[0]).toBe('logits: float32 [3, 3]  1, 0, -1, 0, 2, 1, 1, 2, ... (9 values)');
    expect(r.out[1]).toMatch(/^\.\.\/escape:1: float32 \[3, 3\]/);
  });

  it('--output-dir writes every output as a safe <name>.npy inside the folder', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'regraft-run-out-'));
    const out = join(parent, 'out');
    const r = await runCli('run', await MODEL, '--input', `x=${x}`, '--output-dir', out);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['___escape_1.npy', 'logits.npy']);
    expect(readdirSync(parent)).toEqual(['out']);
    const logits = parseNpy(readFileSync(join(out, 'logits.npy')), 'logits.npy');
    expect(logits.descr).toBe('<f4');
    expect(logits.shape).toEqual([3, 3]);
    expect(Array.from(logits.data as Float32Array)).toEqual([1, 0, -1, 0, 2, 1, 1, 2, 0]);
  });

  it('refuses to write through a symlink planted in the output folder', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'regraft-run-link-'));
    const victim = join(parent, 'victim.txt');
    writeFileSync(victim, 'keep me');
    const out = join(parent, 'out');
    mkdirSync(out);
    symlinkSync(victim, join(out, 'logits.npy'));
    const r = await runCli('run', await MODEL, '--input', `x=${x}`, '--output-dir', out);
    expect(r.code).toBe(1);
    expect(r.err[0]).toMatch(/cannot write output 'logits' .*ELOOP/);
    expect(readFileSync(victim, 'utf8')).toBe('keep me');
  });

  it('names the input in every input error', async () => {
    const model = await MODEL;
    const cases: [string[], RegExp][] = [
      [[], /needs input 'x'; pass --input x=FILE\.npy/],
      [['--input', `y=${x}`], /input 'y' is not an input of the model; model .* takes: x/],
      [['--input', `W=${x}`], /input 'W' is stored in the model and cannot be fed/],
      [['--input', `x=${writeNpy('x64.npy', '<f8', [3, 2], new Float64Array(6))}`], /input 'x' of model .* is FLOAT but .*x64\.npy holds '<f8'; save it with arr\.astype\(np\.float32\)/],
      [['--input', `x=${writeNpy('x34.npy', '<f4', [3, 4], new Float32Array(12))}`], /input 'x' of model .* has shape \[N, 2\] but .*x34\.npy has shape \(3, 4\)/],
      [['--input', `x=${join(dir, 'missing.npy')}`], /input 'x': cannot read .*missing\.npy \(ENOENT\)/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli('run', model, ...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err, args.join(' ')).toHaveLength(1);
      expect(r.err[0]).toMatch(message);
    }
    expect((await runCli('run', model, '--input', 'x')).code).toBe(2);
  });
});

describe('NPY writing and safe names', () => {
  it('writes NPY 1.0 that parseNpy reads back, header padded to 64 bytes', () => {
    for (const [shape, data] of [[[2, 3], Float32Array.of(1, 2, 3, 4, 5, 6)], [[4], BigInt64Array.of(1n, -2n, 3n, 4n)], [[], Float32Array.of(7)]] as const) {
      const bytes = encodeNpy(data instanceof Float32Array ? '<f4' : '<i8', shape, data);
      expect((bytes.length - data.byteLength) % 64).toBe(0);
      const back = parseNpy(bytes, 'mem.npy');
      expect(back.shape).toEqual(shape);
      expect(Array.from(back.data as ArrayLike<unknown>)).toEqual(Array.from(data as ArrayLike<unknown>));
    }
  });

  it('keeps names to one visible path component', () => {
    expect(safeFileStem('logits')).toBe('logits');
    expect(safeFileStem('../../etc/passwd')).toBe('___.._etc_passwd');
    expect(safeFileStem('..')).toBe('__');
    expect(safeFileStem('')).toBe('output');
    expect(safeFileStem('a/b\\c:d e')).toBe('a_b_c_d_e');
  });
});
