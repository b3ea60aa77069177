import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RegraftError } from '../../src/errors.js';
import { DataType, tensorToFloat32 } from '../../src/ir/index.js';
import { loadModel } from '../../src/model-io.js';
import { buildLeNet, buildMlp } from '../../src/models/builders.js';
import type { TrainConfig } from '../../src/training/config.js';
import { learningRate } from '../../src/training/schedule.js';
import { train, type TrainResult } from '../../src/training/trainer.js';
import { bytesOf, checkpointTensors, MNIST_SUBSET, readMetrics, tempDir, writeMnistNpy, writeModel, writeSmallMlp } from './fixtures/runs.js';

const dir = tempDir('trainer');
const MLP = writeSmallMlp(dir);

/** A short run of the small MLP on the first 500 MNIST test samples (450 train, 50 validation). */
async function quickRun(name: string, settings: Partial<TrainConfig> = {}): Promise<TrainResult> {
  return train({ model: await MLP, data: MNIST_SUBSET, limit: 500, valSplit: 0.1, batchSize: 32, epochs: 3, lr: 0.1, out: join(dir, name), ...settings });
}

describe('train() run directory', () => {
  it('writes config, models, metrics, checkpoints and the plot, and the loss goes down (60k MNIST, first 600)', async () => {
    const logs: string[] = [];
    const result = await train(
      { model: await MLP, data: 'mnist', limit: 600, valSplit: 0.2, batchSize: 32, epochs: 3, lr: 0.1, out: join(dir, 'full') },
      { log: (l) => logs.push(l) },
    );
    const run = result.runDir;
    for (const f of ['config.json', 'model.onnx', 'step.onnx', 'metrics.jsonl', 'loss.svg']) expect(existsSync(join(run, f)), f).toBe(true);
    expect(readdirSync(join(run, 'checkpoints')).sort()).toEqual(['best.onnx', 'last.onnx']);

    const config = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8')) as TrainConfig;
    expect(config).toMatchObject({ data: 'mnist', limit: 600, valSplit: 0.2, batchSize: 32, epochs: 3, lr: 0.1, seed: 0, optimizer: 'sgd' });

    const metrics = readMetrics(run);
    expect(metrics).toEqual(result.metrics);
    expect(metrics.map((m) => m.epoch)).toEqual([1, 2, 3]);
    // 480 training samples in batches of 32: 15 optimizer steps an epoch, counted on across epochs.
    expect(metrics.map((m) => m.step)).toEqual([15, 30, 45]);
    for (const m of metrics) {
      expect(Object.keys(m).sort()).toEqual(['epoch', 'lr', 'samples_per_sec', 'seconds', 'step', 'train_loss', 'val_accuracy', 'val_loss']);
      expect(m.samples_per_sec).toBeGreaterThan(0);
      expect(m.seconds).toBeGreaterThan(0);
      expect(m.val_accuracy).toBeGreaterThanOrEqual(0);
      expect(m.val_accuracy).toBeLessThanOrEqual(1);
    }
    const train_ = metrics.map((m) => m.train_loss);
    const val = metrics.map((m) => m.val_loss!);
    expect(train_[1]).toBeLessThan(train_[0]);
    expect(train_[2]).toBeLessThan(train_[1]);
    expect(val[2]).toBeLessThan(val[0]);
    expect(metrics[2].val_accuracy).toBeGreaterThan(0.5);
    expect(logs.filter((l) => l.startsWith('Epoch '))).toHaveLength(3);

    // The loss curve holds both series; the last checkpoint is the last epoch's weights, which moved from the start.
    const svg = readFileSync(join(run, 'loss.svg'), 'utf8');
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('validation loss');
    const last = await checkpointTensors(run);
    const initial = await loadModel(await MLP);
    const w = tensorToFloat32(initial.graph.requireValue('fc1.weight').initializer!);
    expect(last.get('fc1.weight')!.dims).toEqual([32, 784]);
    expect(bytesOf(last.get('fc1.weight')!.data).equals(bytesOf(w))).toBe(false);
  });

  it('gives exactly the same losses and weights for the same seed, and others for another seed', async () => {
    const a = await quickRun('seed-a', { seed: 7, dropoutAfter: ['Relu'] });
    const b = await quickRun('seed-b', { seed: 7, dropoutAfter: ['Relu'] });
    const c = await quickRun('seed-c', { seed: 8, dropoutAfter: ['Relu'] });
    const losses = (r: TrainResult) => r.metrics.map((m) => [m.train_loss, m.val_loss, m.val_accuracy]);
    expect(losses(b)).toEqual(losses(a));
    const [wa, wb] = [await checkpointTensors(a.runDir), await checkpointTensors(b.runDir)];
    for (const [name, t] of wa) expect(bytesOf(wb.get(name)!.data).equals(bytesOf(t.data)), name).toBe(true);
    expect(c.metrics[0].train_loss).not.toBe(a.metrics[0].train_loss);
    expect(c.metrics[2].val_loss).not.toBe(a.metrics[2].val_loss);
  });

  it('refuses to start a new run in a directory that holds one, and leaves it untouched', async () => {
    const first = await quickRun('taken', { epochs: 1 });
    const before = readFileSync(join(first.runDir, 'metrics.jsonl'), 'utf8');
    const err = await quickRun('taken', { epochs: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegraftError);
    expect((err as Error).message).toMatch(/already holds a run; continue it with --resume or choose another --out/);
    expect((err as Error).message).not.toContain('\n');
    expect(readFileSync(join(first.runDir, 'metrics.jsonl'), 'utf8')).toBe(before);
  });
});

describe('learning-rate schedules', () => {
  const cases: [string, Partial<TrainConfig>, number[]][] = [
    ['constant', { schedule: 'constant', lr: 0.05 }, [0.05, 0.05, 0.05, 0.05]],
    // Multiplied by gamma every stepSize epochs.
    ['step', { schedule: 'step', lr: 0.08, stepSize: 2, gamma: 0.5 }, [0.08, 0.08, 0.04, 0.04]],
    // 0.5 * lr * (1 + cos(pi * e / epochs)) at the start of epoch e = 0..3 of 4.
    ['cosine', { schedule: 'cosine', lr: 0.08 }, [0.08, 0.04 * (1 + Math.SQRT1_2), 0.04, 0.04 * (1 - Math.SQRT1_2)]],
    // 200 samples in batches of 64 = 4 steps an epoch; a 2-epoch warmup is 8 steps: first batches at steps 1, 5, 9, 13.
    ['constant with warmup', { schedule: 'constant', lr: 0.08, warmup: 2, batchSize: 64 }, [0.01, 0.05, 0.08, 0.08]],
  ];
  for (const [name, settings, expected] of cases) {
    it(`${name}: metrics.jsonl records the lr of every epoch`, async () => {
      const result = await quickRun(`lr-${name}`, { ...settings, epochs: 4, limit: 200, valSplit: 0 });
      const lrs = readMetrics(result.runDir).map((m) => m.lr);
      expect(lrs).toHaveLength(4);
      lrs.forEach((lr, e) => expect(lr).toBeCloseTo(expected[e], 12));
      lrs.forEach((lr, e) => expect(lr).toBe(learningRate(result.config, e, 0, 4)));
    });
  }

  it('warmup rises per step, then hands over to the schedule (cosine)', () => {
    const c = { lr: 0.1, schedule: 'cosine' as const, stepSize: 1, gamma: 1, epochs: 10, warmup: 0.5 };
    // 4 steps an epoch: warmup is 2 steps (0.5 and 1 of the cosine rate), then the cosine rate itself.
    expect(learningRate(c, 0, 0, 4)).toBeCloseTo(0.5 * 0.1, 12);
    expect(learningRate(c, 0, 0.25, 4)).toBeCloseTo(0.5 * 0.1 * (1 + Math.cos(Math.PI * 0.025)), 12);
    expect(learningRate(c, 0, 0.5, 4)).toBeCloseTo(0.5 * 0.1 * (1 + Math.cos(Math.PI * 0.05)), 12);
    expect(learningRate({ ...c, warmup: 0 }, 0, 0, 4)).toBe(0.1);
  });

  it('a run without validation keeps the last epoch as best and writes no validation keys', async () => {
    const result = await quickRun('no-val', { epochs: 2, limit: 200, valSplit: 0 });
    expect(result.bestEpoch).toBe(2);
    expect(Object.keys(readMetrics(result.runDir)[0])).not.toContain('val_loss');
  });
});

describe('early stopping', () => {
  it('stops after `patience` epochs without a better validation loss and keeps the best epoch', async () => {
    // Validation labels shifted by one class: the better the model learns MNIST, the worse its validation loss.
    const valData = await writeMnistNpy(dir, 'shifted', 100, (y) => (y + 1) % 10);
    const logs: string[] = [];
    const result = await train(
      { model: await MLP, data: MNIST_SUBSET, limit: 400, valData, batchSize: 32, epochs: 10, lr: 0.1, patience: 2, out: join(dir, 'patience') },
      { log: (l) => logs.push(l) },
    );
    expect(result.stoppedEarly).toBe(true);
    expect(result.bestEpoch).toBe(1);
    expect(readMetrics(result.runDir).map((m) => m.epoch)).toEqual([1, 2, 3]);
    const val = result.metrics.map((m) => m.val_loss!);
    expect(val[1]).toBeGreaterThan(val[0]);
    expect(val[2]).toBeGreaterThan(val[0]);
    expect(logs.at(-1)).toMatch(/^early stopping: validation loss has not improved for 2 epochs \(best at epoch 1\)$/);
    // best.onnx stayed at epoch 1; last.onnx moved on.
    const best = await checkpointTensors(result.runDir, 'best');
    const last = await checkpointTensors(result.runDir, 'last');
    expect(bytesOf(best.get('fc1.weight')!.data).equals(bytesOf(last.get('fc1.weight')!.data))).toBe(false);
  });
});

describe('models as PyTorch exports them', () => {
  it('an MLP taking [N,1,28,28] through Flatten and Gemm(transB=1) trains like the flat one', async () => {
    const path = await writeSmallMlp(dir, { sampleShape: [1, 28, 28] }, 'mlp-image.onnx');
    const model = await loadModel(path);
    expect(model.graph.inputs[0].shape).toEqual(['N', 1, 28, 28]);
    expect(model.graph.nodes[0].opType).toBe('Flatten');
    const gemms = model.graph.nodes.filter((n) => n.opType === 'Gemm');
    expect(gemms.map((n) => n.attrs.int('transB', 0))).toEqual([1, 1]);

    const image = await train({ model: path, data: MNIST_SUBSET, limit: 500, valSplit: 0.1, batchSize: 32, epochs: 3, lr: 0.1, out: join(dir, 'image') });
    const flat = await quickRun('flat');
    // Same weights (same builder seed), same data order: only the input's shape differs.
    expect(image.metrics.map((m) => m.train_loss)).toEqual(flat.metrics.map((m) => m.train_loss));
    expect(image.metrics[2].train_loss).toBeLessThan(image.metrics[0].train_loss);
  });

  it('LeNet-5 (Conv, MaxPool, Flatten, Gemm) trains a little on a subset', async () => {
    const path = await writeModel(buildLeNet({ seed: 3 }), dir, 'lenet.onnx');
    const result = await train({ model: path, data: MNIST_SUBSET, limit: 256, valSplit: 0, batchSize: 32, epochs: 2, lr: 0.05, optimizer: 'momentum', out: join(dir, 'lenet') });
    const [first, second] = result.metrics.map((m) => m.train_loss);
    expect(Number.isFinite(first)).toBe(true);
    expect(second).toBeLessThan(first);
  });
});

describe('a model with several outputs', () => {
  it('--target picks the output the loss reads; validation scores that output too', async () => {
    // The hidden activations come first, the logits second: by default the loss would read the wrong one.
    const model = buildMlp({ hidden: [32], seed: 1 });
    const g = model.graph;
    const logits = g.outputs[0];
    const hidden = g.requireValue(logits.producer!.input(0)!.name);
    g.removeOutput(logits);
    hidden.setTensorType(DataType.FLOAT, ['N', 32]);
    g.addOutput(hidden);
    g.addOutput(logits);
    const path = await writeModel(model, dir, 'two-outputs.onnx');
    const result = await quickRun('two-outputs', { model: path, target: 'logits', epochs: 2 });
    // The same network with the logits as its only output (same weights, same seed) trains identically.
    const reference = await quickRun('one-output', { epochs: 2 });
    const losses = (r: TrainResult) => r.metrics.map((m) => [m.train_loss, m.val_loss, m.val_accuracy]);
    expect(losses(result)).toEqual(losses(reference));
    const err = await quickRun('missing-output', { model: path, target: 'probs' }).catch((e: unknown) => e);
    expect((err as Error).message).toBe("model output 'probs' not found in graph 'mlp'; check the name with 'regraft inspect'");
  });
});

describe('bad input', () => {
  it('data that does not fit the model input is a one-line error naming both, and no run directory is left', async () => {
    const csv = join(dir, 'five-features.csv');
    writeFileSync(csv, 'a,b,c,d,e,label\n' + Array.from({ length: 20 }, (_, i) => `0.1,0.2,0.3,0.4,0.5,${i % 3}`).join('\n') + '\n');
    const out = join(dir, 'bad-data');
    const err = await train({ model: await MLP, data: `csv:${csv}`, epochs: 1, out }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegraftError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toContain(`data 'csv:${csv}'`);
    expect(message).toContain("model input 'input' has shape [N,784]");
    expect(existsSync(out)).toBe(false);
  });

  it('a diverging loss (lr 1e6) stops training with an error that says to lower the learning rate', async () => {
    // With L2 each step multiplies the weights by about (1 - lr * l2) = -1e4: they overflow within a few batches.
    // (Plain SGD at this lr only kills the ReLUs: a huge but finite loss.)
    const err = await quickRun('nan', { lr: 1e6, l2: 0.01, valSplit: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegraftError);
    expect((err as Error).message).toMatch(/^train: loss became (NaN|Infinity|-Infinity) at epoch \d+, batch \d+; lower the learning rate \(now 1000000\)$/);
  });
});
