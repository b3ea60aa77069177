import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '../../src/data/npy.js';
import { loadDataset } from '../../src/data/index.js';
import { DataType } from '../../src/ir/index.js';
import type { Model } from '../../src/ir/model.js';
import { loadModel, modelToBytes } from '../../src/model-io.js';
import { Tensor } from '../../src/runtime/onnxruntime.js';
import { createSession } from '../../src/runtime/index.js';
import { train } from '../../src/training/trainer.js';
import { MC_DROPOUT_NAME } from '../../src/training-interface.js';
import { runCli } from '../cli/helpers.js';
import { bytesOf, MNIST_SUBSET, tempDir, writeSmallMlp } from './fixtures/runs.js';

// Monte-Carlo Dropout export, run in onnxruntime: fed nothing (mc_dropout false) the model answers bit for bit as
// the plain export; fed true, every pass draws new masks, and the mean of the passes approaches the plain output
// (Dropout sits right before the last Gemm, so the plain logits are exactly the passes' expectation).
const dir = tempDir('mc-dropout');
const SAMPLES = 8;
let run: string;
let x: Float32Array;
const xNpy = join(dir, 'x.npy');

async function outputs(model: Model, feeds: Record<string, Tensor>, passes = 1): Promise<Float32Array[]> {
  const session = await createSession(modelToBytes(model), { name: 'test' });
  try {
    const got: Float32Array[] = [];
    for (let i = 0; i < passes; i++) got.push((await session.run(feeds))[session.outputNames[0]].data as Float32Array);
    return got;
  } finally {
    await session.release();
  }
}

const input = () => ({ input: new Tensor('float32', x, [SAMPLES, 784]) });

/** The model with its mc_dropout switch as a plain input (onnxruntime-node feeds only inputs without a default). */
async function switchable(path: string): Promise<Model> {
  const model = await loadModel(path);
  model.graph.initializerToInput(model.graph.inputs.find((v) => v.name === MC_DROPOUT_NAME)!);
  return model;
}

beforeAll(async () => {
  const mlp = await writeSmallMlp(dir);
  run = (await train({ model: mlp, data: MNIST_SUBSET, limit: 200, valSplit: 0.2, batchSize: 32, epochs: 1, lr: 0.1, dropoutAfter: ['Relu'], dropoutRatio: 0.3, out: join(dir, 'run') })).runDir;
  x = (await loadDataset(MNIST_SUBSET)).features.slice(0, SAMPLES * 784);
  writeFileSync(xNpy, encodeNpy('<f4', [SAMPLES, 784], x));
  for (const [args, out] of [[[], 'plain'], [['--mc-dropout'], 'mc']] as const) {
    const r = await runCli('export', run, '-o', join(dir, `${out}.onnx`), ...args);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
  }
}, 120_000);

describe('export --mc-dropout', () => {
  it('keeps every Dropout behind one bool scalar input mc_dropout backed by a false initializer', async () => {
    const mc = await loadModel(join(dir, 'mc.onnx'));
    const dropouts = mc.graph.nodes.filter((n) => n.opType === 'Dropout');
    expect(dropouts).toHaveLength(1);
    const input = mc.graph.inputs.find((v) => v.name === MC_DROPOUT_NAME)!;
    expect(input.initializer?.dataType).toBe(DataType.BOOL);
    expect(input.initializer?.dims).toEqual([]);
    expect([...(input.initializer?.int32Data ?? []), ...(input.initializer?.rawData ?? [])].every((b) => b === 0)).toBe(true);
    expect(dropouts.every((n) => n.input(2) === input && !n.attributes.has('seed'))).toBe(true);
    // Its output is read through Where(mask, y, y), so onnxruntime's optimizer, which drops a Dropout whose mask
    // nothing reads, keeps it.
    expect(dropouts.every((n) => n.outputs[1]!.uses.some((u) => u.node.opType === 'Where'))).toBe(true);
    expect(mc.graph.inputs.map((v) => v.name)).toEqual(['input', MC_DROPOUT_NAME]);
    expect((await loadModel(join(dir, 'plain.onnx'))).graph.nodes.some((n) => n.opType === 'Dropout')).toBe(false);
  });

  it('fed nothing, or fed false, answers bit for bit as the plain export', async () => {
    const [plain] = await outputs(await loadModel(join(dir, 'plain.onnx')), input());
    const [byDefault] = await outputs(await loadModel(join(dir, 'mc.onnx')), input());
    const [fedFalse] = await outputs(await switchable(join(dir, 'mc.onnx')), { ...input(), [MC_DROPOUT_NAME]: new Tensor('bool', [false], []) });
    expect(bytesOf(byDefault).equals(bytesOf(plain))).toBe(true);
    expect(bytesOf(fedFalse).equals(bytesOf(plain))).toBe(true);
  });

  it('fed true, passes differ and their mean approaches the plain output', async () => {
    const [plain] = await outputs(await loadModel(join(dir, 'plain.onnx')), input());
    const N = 400;
    const passes = await outputs(await switchable(join(dir, 'mc.onnx')), { ...input(), [MC_DROPOUT_NAME]: new Tensor('bool', [true], []) }, N);
    expect(bytesOf(passes[0]).equals(bytesOf(passes[1]))).toBe(false);
    // Over every logit: the mean |error| of one pass and of the mean of N passes, in units of the passes' spread.
    // For independent passes the mean's is about 0.8 / sqrt(N) = 0.04, a single pass's about 0.8.
    let spread = 0;
    let meanError = 0;
    let passError = 0;
    for (let i = 0; i < plain.length; i++) {
      const values = passes.map((p) => p[i]);
      const mean = values.reduce((a, v) => a + v, 0) / N;
      const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (N - 1));
      expect(std, `element ${i}`).toBeGreaterThan(0);
      spread += std;
      meanError += Math.abs(mean - plain[i]);
      passError += Math.abs(passes[0][i] - plain[i]);
    }
    expect(passError / spread).toBeGreaterThan(0.3);
    expect(meanError / spread).toBeLessThan(0.1);
  });

  it('strip --mc-dropout does the same to the run\'s model, and refuses a model without Dropout in one line', async () => {
    for (const [args, out] of [[[], 'stripped'], [['--mc-dropout'], 'stripped-mc']] as const) {
      const r = await runCli('strip', join(run, 'model.onnx'), '-o', join(dir, `${out}.onnx`), ...args);
      expect(r.code).toBe(0);
    }
    const r = await runCli('strip', join(run, 'model.onnx'), '-o', join(dir, 'unused.onnx'), '--mc-dropout');
    expect(r.out.at(-1)).toMatch(/1 Dropout kept behind input 'mc_dropout' \(default false\)/);
    const [plain] = await outputs(await loadModel(join(dir, 'stripped.onnx')), input());
    const [mc] = await outputs(await loadModel(join(dir, 'stripped-mc.onnx')), input());
    expect(bytesOf(mc).equals(bytesOf(plain))).toBe(true);
    const refused = await runCli('strip', join(dir, 'plain.onnx'), '-o', join(dir, 'none.onnx'), '--mc-dropout');
    expect(refused.code).toBe(1);
    expect(refused.err).toEqual(["regraft: --mc-dropout: the model has no Dropout to keep; train with --dropout-after (or insert it with regraft dropout) first"]);
  });
});

describe('run --mc-samples', () => {
  it('prints each output\'s mean and standard deviation over the passes, per input sample', async () => {
    const r = await runCli('run', join(dir, 'mc.onnx'), '--input', `input=${xNpy}`, '--mc-samples', '30', '--output-dir', join(dir, 'mc-out'));
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^logits_mean: float32 \[8, 10\] {2}-?\d/);
    expect(r.out[1]).toMatch(/^logits_std: float32 \[8, 10\] {2}\d/);
    const std = r.out[1].split('  ')[1].split(', ').slice(0, 8).map(Number);
    expect(std.every((s) => s > 0)).toBe(true);
    expect(r.out.slice(2)).toEqual([`wrote ${join(dir, 'mc-out', 'logits_mean.npy')}`, `wrote ${join(dir, 'mc-out', 'logits_std.npy')}`]);
  });

  it('refuses a model with no mc_dropout input in one line, saying how to make one', async () => {
    const r = await runCli('run', join(dir, 'plain.onnx'), '--input', `input=${xNpy}`, '--mc-samples', '30');
    expect(r.code).toBe(1);
    expect(r.err).toEqual([
      `regraft: model ${join(dir, 'plain.onnx')} has no 'mc_dropout' input, so --mc-samples cannot switch its Dropout on; export it with 'regraft export RUN -o OUT --mc-dropout' or 'regraft strip MODEL -o OUT --mc-dropout'`,
    ]);
  });
});
