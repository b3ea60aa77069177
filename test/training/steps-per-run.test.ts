/**
 * Several optimizer steps per onnxruntime run (--steps-per-run, compile/scan-steps.ts) give the weights of one
 * step per run bit for bit: the same batches in the same order, the same Dropout masks (the epoch's seeds drive
 * the same kernels), the same per-step learning rates, BatchNormalization's running statistics carried alike, and
 * a smaller last batch run on its own. Also: the stacked batches hold exactly the rows of the plain ones.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NamedBatchLoader, namedArrays } from '../../src/data/index.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/dtype.js';
import { floatTensor } from '../../src/ir/tensor.js';
import { buildMlp, linear } from '../../src/models/builders.js';
import { compileTrainStep } from '../../src/compile/compile.js';
import { stepModels } from '../../src/training/step-runner.js';
import { DEFAULT_STEPS_PER_RUN, SCAN_STATE_LIMIT_MIB, stepsPerRun } from '../../src/training/steps-per-run.js';
import { newModel } from '../../src/ir/model.js';
import { train } from '../../src/training/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { Tensor } from '../../src/runtime/onnxruntime.js';
import { bytesOf, checkpointTensors, MNIST_SUBSET, tempDir, writeModel, writeSmallMlp } from './fixtures/runs.js';

const dir = tempDir('steps-per-run');

/** 784-16-BatchNorm-ReLU-10, the BatchNormalization in inference form as PyTorch exports it in eval mode. */
function batchNormMlp() {
  const model = newModel({ graphName: 'bn-mlp' });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const rng = new Rng(3);
  const x = g.addInput('input').setTensorType(DataType.FLOAT, ['N', 784]);
  const h = linear(b, rng, 'fc1', x, 784, 16);
  const init = (name: string, value: number) => g.addInitializer(floatTensor(name, new Float32Array(16).fill(value), [16]));
  const bn = b.op('BatchNormalization', [h, init('bn.weight', 1), init('bn.bias', 0), init('bn.running_mean', 0), init('bn.running_var', 1)], { epsilon: 1e-5, momentum: 0.9 }, { name: 'bn' });
  const logits = linear(b, rng, 'fc2', b.op('Relu', [bn]), 16, 10, 'logits');
  logits.setTensorType(DataType.FLOAT, ['N', 10]);
  g.addOutput(logits);
  return model;
}

const stepLines = (runDir: string) => readFileSync(join(runDir, 'steps.jsonl'), 'utf8');

async function expectSameRuns(a: string, b: string): Promise<void> {
  const x = await checkpointTensors(a);
  const y = await checkpointTensors(b);
  expect([...x.keys()].sort()).toEqual([...y.keys()].sort());
  for (const [name, t] of x) {
    const u = y.get(name)!.data;
    expect(bytesOf(u).equals(bytesOf(t.data)), `${name}: max diff ${Math.max(...t.data.map((v, i) => Math.abs(v - u[i])))}`).toBe(true);
  }
  expect(stepLines(b)).toBe(stepLines(a));
}

describe('steps per run', () => {
  it('trains to the weights of one step per run, bit for bit (Dropout, Adam, cosine schedule, a smaller last batch)', async () => {
    const model = await writeSmallMlp(dir);
    // 270 training samples in batches of 32: 8 full batches and one of 14, per epoch.
    const settings = {
      model, data: MNIST_SUBSET, limit: 300, valSplit: 0.1, batchSize: 32, epochs: 2, lr: 0.01, optimizer: 'adam' as const, schedule: 'cosine' as const,
      dropoutAfter: ['Relu'], dropoutRatio: 0.3, seed: 5, tensorboard: false,
    };
    const one = await train({ ...settings, stepsPerRun: 1, out: join(dir, 'one') });
    for (const perRun of [3, 8, 50]) {
      const many = await train({ ...settings, stepsPerRun: perRun, out: join(dir, `per-run-${perRun}`) });
      expect(many.metrics.map((m) => [m.train_loss, m.val_loss])).toEqual(one.metrics.map((m) => [m.train_loss, m.val_loss]));
      await expectSameRuns(one.runDir, many.runDir);
    }
    // The steps' learning rates really changed from step to step.
    const rates = stepLines(one.runDir).trim().split('\n').map((l) => (JSON.parse(l) as { lr: number }).lr);
    expect(new Set(rates).size).toBe(rates.length);
  });

  it('carries BatchNormalization running statistics across the steps of a run as across runs', async () => {
    const model = await writeModel(batchNormMlp(), dir, 'bn-mlp.onnx');
    const settings = { model, data: MNIST_SUBSET, limit: 200, valSplit: 0, batchSize: 25, epochs: 2, lr: 0.05, optimizer: 'momentum' as const, tensorboard: false };
    const one = await train({ ...settings, stepsPerRun: 1, out: join(dir, 'bn-one') });
    const many = await train({ ...settings, stepsPerRun: 4, out: join(dir, 'bn-many') });
    const stats = await checkpointTensors(many.runDir);
    expect(Math.max(...stats.get('bn.running_mean')!.data.map(Math.abs))).toBeGreaterThan(0);
    await expectSameRuns(one.runDir, many.runDir);
  });

  it('falls back to one step per run with gradient accumulation, with the same result', async () => {
    const model = await writeSmallMlp(dir);
    const settings = { model, data: MNIST_SUBSET, limit: 200, valSplit: 0, batchSize: 20, epochs: 1, lr: 0.05, accumulate: 3, tensorboard: false };
    const one = await train({ ...settings, stepsPerRun: 1, out: join(dir, 'acc-one') });
    const many = await train({ ...settings, stepsPerRun: 8, out: join(dir, 'acc-many') });
    await expectSameRuns(one.runDir, many.runDir);
  });
});

describe('the default steps per run', () => {
  const compiled = (accumulate: boolean) => {
    const step = compileTrainStep(buildMlp({ hidden: [8], seed: 0 }), { loss: 'cross-entropy', optimizer: 'adam', accumulate });
    return { step, models: stepModels(step) };
  };

  it('is 8 for a step whose carried state fits in SCAN_STATE_LIMIT_MIB, 1 above, and what was asked otherwise', () => {
    const { step, models } = compiled(false);
    const carried = new Map([...models.initial].map(([n, t]) => [n, new Tensor('float32', t.data, t.dims)]));
    expect(stepsPerRun(undefined, step, models.step, carried)).toBe(DEFAULT_STEPS_PER_RUN);
    expect(stepsPerRun(3, step, models.step, carried)).toBe(3);
    const huge = (SCAN_STATE_LIMIT_MIB * 2 ** 20) / 4 + 1;
    const big = new Map([...carried, ['huge', new Tensor('float32', new Float32Array(huge), [huge])]]);
    expect(stepsPerRun(undefined, step, models.step, big)).toBe(1);
    expect(stepsPerRun(5, step, models.step, big)).toBe(5);
  });

  it('is 1 for an accumulating step, whatever was asked', () => {
    const { step, models } = compiled(true);
    expect(stepsPerRun(8, step, models.step, new Map())).toBe(1);
  });
});

describe('NamedBatchLoader.stackedBatches', () => {
  it('holds the rows of the plain batches, up to n at a time, the smaller last batch alone', () => {
    const rows = 23;
    const x = Float32Array.from({ length: rows * 3 }, (_, i) => i);
    const labels = BigInt64Array.from({ length: rows }, (_, i) => BigInt(i));
    const arrays = namedArrays({ x: { data: x, dims: [rows, 3] }, labels: { data: labels, dims: [rows] } }, 'test data');
    const loader = new NamedBatchLoader(arrays, { batchSize: 4, seed: 9 });
    // Read each batch before taking the next: the loader reuses its buffers.
    const plain = [];
    for (const b of loader.batches(2)) plain.push({ x: [...(b.arrays.x.data as Float32Array)], labels: [...(b.arrays.labels.data as BigInt64Array)] });
    const stacks = [];
    for (const s of loader.stackedBatches(2, 2)) {
      stacks.push({ index: s.index, count: s.count, size: s.size, dims: s.arrays.x.dims, x: [...(s.arrays.x.data as Float32Array)], labels: [...(s.arrays.labels.data as BigInt64Array)] });
    }
    // 5 full batches of 4 and one of 3: runs of 2, 2, 1 full batches, then the last alone.
    expect(stacks.map((s) => [s.index, s.count, s.size])).toEqual([[0, 2, 4], [2, 2, 4], [4, 1, 4], [5, 1, 3]]);
    expect(stacks.map((s) => s.dims)).toEqual([[2, 4, 3], [2, 4, 3], [1, 4, 3], [1, 3, 3]]);
    expect(stacks.flatMap((s) => s.x)).toEqual(plain.flatMap((b) => b.x));
    expect(stacks.flatMap((s) => s.labels)).toEqual(plain.flatMap((b) => b.labels));
  });

  it('refuses a count below 1', () => {
    const arrays = namedArrays({ x: { data: new Float32Array(4), dims: [4, 1] } }, 'test data');
    expect(() => [...new NamedBatchLoader(arrays, { batchSize: 2, seed: 0 }).stackedBatches(0, 0)]).toThrow('batches per run 0 must be a whole number of at least 1');
  });
});

