import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/context.js';
import { main } from '../../src/cli/main.js';
import { modelFromBytes, modelToBytes } from '../../src/model-io.js';
import { bnResidualCnn } from '../compile/models.js';
import { histogram, mlp } from './models.js';

const dir = mkdtempSync(join(tmpdir(), 'regraft-passes-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), isTty: false };
  const code = await main(argv, io);
  return { code, out, err };
}

// input -> fc1 -> Relu -> fc2 -> Relu -> fc3 -> logits
const modelPath = join(dir, 'mlp.onnx');
writeFileSync(modelPath, modelToBytes(mlp()));
const load = (p: string) => modelFromBytes(readFileSync(p), p);

describe('regraft dropout / strip', () => {
  it('inserts, verifies and reports one line per Dropout; strip gives the original ops back', async () => {
    const dropped = join(dir, 'dropout.onnx');
    const r = await cli('dropout', modelPath, '-o', dropped, '--after', 'Relu', '--ratio', '0.3', '--seed', '4', '--verify');
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe("inserted dropout//relu1/Relu_output_0 after Relu node '/relu1/Relu': '/relu1/Relu_output_0' -> '/relu1/Relu_output_0_dropout'");
    expect(r.out).toContainEqual(expect.stringMatching(/^verify ok: logits max \|diff\| 0\.00e\+0/));
    expect(r.out.at(-1)).toBe(`wrote ${dropped}: 2 Dropout inserted, ratio 0.3, Dropout-12 form, switched by bool initializer 'training_mode' (false: inference)`);
    expect(histogram(load(dropped)).Dropout).toBe(2);

    const stripped = join(dir, 'stripped.onnx');
    const s = await cli('strip', dropped, '-o', stripped);
    expect(s.code).toBe(0);
    expect(s.out.at(-1)).toBe(`wrote ${stripped}: 2 Dropout removed, 0 BatchNormalization switched to inference mode; outputs logits`);
    expect(histogram(load(stripped))).toEqual(histogram(mlp()));
  });

  it('strip --fold-batchnorm folds the BatchNormalizations of a residual CNN, checked in onnxruntime', async () => {
    const cnnPath = join(dir, 'bn-cnn.onnx');
    writeFileSync(cnnPath, modelToBytes(bnResidualCnn()));
    expect(histogram(load(cnnPath)).BatchNormalization).toBe(2);
    const folded = join(dir, 'bn-cnn-folded.onnx');
    const r = await cli('strip', cnnPath, '-o', folded, '--fold-batchnorm');
    expect(r.err).toEqual([]);
    expect(r.out).toContain('folded 2 BatchNormalization node(s) (checked in onnxruntime)');
    expect(histogram(load(folded)).BatchNormalization).toBeUndefined();
  });

  it('turns bad flags into usage errors (exit 2) and model problems into one-line errors (exit 1)', async () => {
    const out = join(dir, 'never.onnx');
    const ratio = await cli('dropout', modelPath, '-o', out, '--after', 'Relu', '--ratio', '1');
    expect([ratio.code, ratio.err]).toEqual([2, ['regraft: --ratio must be in [0, 1) (a drop probability), got 1']]);
    const noSelector = await cli('dropout', modelPath, '-o', out);
    expect(noSelector.code).toBe(2);
    const noMatch = await cli('dropout', modelPath, '-o', out, '--after', 'Gelu');
    expect([noMatch.code, noMatch.err]).toEqual([1, ['regraft: insert-dropout: no node matches Gelu; op types in this model: Gemm, Relu']]);
    const keep = await cli('strip', modelPath, '-o', out, '--keep-outputs', 'probs');
    expect(keep.code).toBe(1);
    expect(keep.err[0]).toMatch(/^regraft: strip-training: keep-outputs names probs/);
  });
});
