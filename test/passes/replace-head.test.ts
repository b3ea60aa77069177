import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { registerHead } from '../../src/cli/head.js';
import { loadDataset } from '../../src/data/index.js';
import { encodeNpy } from '../../src/data/npy.js';
import { RegraftError } from '../../src/errors.js';
import { DataType, exportModel, float, GraphBuilder, newModel, tensorDims, tensorToFloat32, validateModel, type Model } from '../../src/ir/index.js';
import { loadModel, saveModel } from '../../src/model-io.js';
import { replaceHead } from '../../src/passes/replace-head.js';
import { trainedInferenceModel } from '../../src/training/export.js';
import { train } from '../../src/training/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { bytesOf, checkpointTensors, MNIST_SUBSET, tempDir } from '../training/fixtures/runs.js';
import { clone, run } from './models.js';

const MNIST_MLP = 'models/mnist-mlp.onnx';

function input(n: number, width: number, seed = 3): ort.Tensor {
  const rng = new Rng(seed);
  return new ort.Tensor('float32', Float32Array.from({ length: n * width }, () => rng.next()), [n, width]);
}

function weightValues(model: Model, name: string): Float32Array {
  return tensorToFloat32(model.graph.requireValue(name).initializer!);
}

/** x[batch, 6] -> MatMul(w [6, 4]) -> Add(b [4]) -> [optional softmax] -> output; the head shapes PyTorch's nn.Linear exports without Gemm. */
function matmulModel(opts: { softmax?: 'Softmax' | 'LogSoftmax'; axis?: number; sharedWeight?: boolean; opset?: number } = {}): Model {
  const model = newModel({ opset: opts.opset ?? 17 });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const rng = new Rng(5);
  const x = g.addInput('x', undefined).setTensorType(DataType.FLOAT, ['batch', 6]);
  const w = b.floatInit('head.weight', Array.from({ length: 24 }, () => rng.normal()), [6, 4]);
  const bias = b.floatInit('head.bias', [0.1, 0.2, 0.3, 0.4], [4]);
  const mm = b.op('MatMul', [x, w], {}, { name: 'head/MatMul', output: 'mm' });
  mm.setTensorType(DataType.FLOAT, ['batch', 4]);
  let out = b.op('Add', [mm, bias], {}, { name: 'head/Add', output: opts.softmax ? 'logits' : 'out' });
  out.setTensorType(DataType.FLOAT, ['batch', 4]);
  if (opts.softmax) {
    out = b.op(opts.softmax, [out], opts.axis === undefined ? {} : { axis: opts.axis }, { name: 'softmax', output: 'out' });
    out.setTensorType(DataType.FLOAT, ['batch', 4]);
  }
  g.addOutput(out);
  if (opts.sharedWeight) {
    const aux = b.op('MatMul', [x, w], {}, { name: 'aux/MatMul', output: 'aux' });
    g.addOutput(aux);
  }
  return model;
}

/** x[batch, 5] -> Gemm(transB=0, w [5, 3], b [1, 3]) -> out. */
function gemmTransB0(): Model {
  const model = newModel({ opset: 17 });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const x = g.addInput('x', undefined).setTensorType(DataType.FLOAT, ['batch', 5]);
  const w = b.floatInit('w', Array.from({ length: 15 }, (_, i) => i / 10), [5, 3]);
  const bias = b.floatInit('b', [1, 2, 3], [1, 3]);
  const out = b.op('Gemm', [x, w, bias], { alpha: float(1), beta: float(1) }, { name: 'gemm', output: 'out' });
  out.setTensorType(DataType.FLOAT, ['batch', 3]);
  g.addOutput(out);
  return model;
}

function expectRefused(fn: () => unknown, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(RegraftError);
  const message = (caught as Error).message;
  expect(message).toMatch(pattern);
  expect(message).not.toContain('\n');
}

describe('replaceHead on models/mnist-mlp.onnx (Gemm transB=1)', () => {
  it('replaces fc2 by a 3-class layer under the same names, leaving fc1 byte-identical', async () => {
    const original = await loadModel(MNIST_MLP);
    const model = clone(original);
    const result = replaceHead(model, { classes: 3, seed: 1 });
    expect(result).toEqual({ node: 'fc2', weight: 'fc2.weight', bias: 'fc2.bias', before: 10, after: 3, features: 128 });
    expect(validateModel(model)).toEqual([]);
    const g = model.graph;
    expect(g.initializers.map((v) => v.name)).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    expect(tensorDims(g.requireValue('fc2.weight').initializer!)).toEqual([3, 128]);
    expect(tensorDims(g.requireValue('fc2.bias').initializer!)).toEqual([3]);
    expect(g.requireValue('logits').shape).toEqual(['N', 3]);
    // The saved graph output declares the new width and keeps the symbolic batch dim.
    const saved = exportModel(model).graph!.output[0].type!;
    expect(saved.value.case === 'tensorType' && saved.value.value.shape!.dim.map((d) => d.value.value)).toEqual(['N', 3n]);
    for (const name of ['fc1.weight', 'fc1.bias']) {
      expect(bytesOf(weightValues(model, name)).equals(bytesOf(weightValues(original, name)))).toBe(true);
    }
    // nn.Linear's initialization: uniform within 1/sqrt(F).
    const w = [...weightValues(model, 'fc2.weight'), ...weightValues(model, 'fc2.bias')];
    const bound = 1 / Math.sqrt(128);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(bound * 0.9);
    // Same seed, same weights; another seed, other weights.
    const again = clone(original);
    replaceHead(again, { classes: 3, seed: 1 });
    expect(weightValues(again, 'fc2.weight')).toEqual(weightValues(model, 'fc2.weight'));
    const other = clone(original);
    replaceHead(other, { classes: 3, seed: 2 });
    expect(weightValues(other, 'fc2.weight')).not.toEqual(weightValues(model, 'fc2.weight'));
  });

  it('runs in onnxruntime with 3 logits while the hidden layer computes exactly what it did', async () => {
    const original = await loadModel(MNIST_MLP);
    // Expose the hidden ReLU output (val_1) on a copy, so both models show what the untouched layers compute.
    original.graph.addOutput(original.graph.requireValue('val_1').setTensorType(DataType.FLOAT, ['N', 128]));
    const model = clone(original);
    replaceHead(model, { classes: 3, output: 'logits' });
    const feeds = { input: input(4, 784) };
    const before = await run(original, feeds, ['logits', 'val_1']);
    const after = await run(model, feeds, ['logits', 'val_1']);
    expect(before.logits).toHaveLength(4 * 10);
    expect(after.logits).toHaveLength(4 * 3);
    expect(after.val_1).toEqual(before.val_1);
    expect(after.val_1.some((x) => x > 0)).toBe(true);
  });
});

describe('replaceHead on the other head forms', () => {
  it('MatMul + Add: weight [F, C] and bias [C] replaced, every value up to the output retyped', async () => {
    // Through bytes with a value_info entry for 'mm', as a model file that declares intermediate shapes has one.
    const built = matmulModel();
    built.graph.valueInfo.set(built.graph.requireValue('mm'), undefined);
    const model = clone(built);
    expect(exportModel(model).graph!.valueInfo.map((i) => i.name)).toEqual(['mm']);
    const result = replaceHead(model, { classes: 7 });
    expect(result).toEqual({ node: 'head/MatMul', weight: 'head.weight', bias: 'head.bias', before: 4, after: 7, features: 6 });
    expect(validateModel(model)).toEqual([]);
    expect(tensorDims(model.graph.requireValue('head.weight').initializer!)).toEqual([6, 7]);
    expect(model.graph.requireValue('mm').shape).toEqual(['batch', 7]);
    expect(model.graph.requireValue('out').shape).toEqual(['batch', 7]);
    // The intermediate MatMul output's value_info carries the new width, not the old.
    const info = exportModel(model).graph!.valueInfo.find((i) => i.name === 'mm');
    expect(info?.type?.value.case === 'tensorType' && info.type.value.value.shape!.dim[1].value.value).toBe(7n);
    const out = await run(model, { x: input(2, 6) }, ['out']);
    expect(out.out).toHaveLength(2 * 7);
  });

  it('a Softmax after the head stays and normalizes over the new width', async () => {
    const model = matmulModel({ softmax: 'Softmax' });
    const result = replaceHead(model, { classes: 5 });
    expect(result.node).toBe('head/MatMul');
    expect(model.graph.nodes.map((n) => n.opType)).toEqual(['MatMul', 'Add', 'Softmax']);
    expect(model.graph.requireValue('logits').shape).toEqual(['batch', 5]);
    expect(model.graph.requireValue('out').shape).toEqual(['batch', 5]);
    const { out } = await run(model, { x: input(3, 6) }, ['out']);
    expect(out).toHaveLength(3 * 5);
    for (let i = 0; i < 3; i++) expect(out.slice(i * 5, i * 5 + 5).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  });

  it('LogSoftmax after a Gemm transB=0 head at opset 11 (default axis 1 on a 2-D output)', async () => {
    const model = gemmTransB0();
    const g = model.graph;
    const logits = g.outputs[0];
    const b = new GraphBuilder(g);
    const out = b.op('LogSoftmax', [logits], {}, { name: 'logsoftmax', output: 'logp' });
    g.setOutput(0, out);
    const result = replaceHead(model, { classes: 2 });
    expect(result).toEqual({ node: 'gemm', weight: 'w', bias: 'b', before: 3, after: 2, features: 5 });
    expect(tensorDims(g.requireValue('w').initializer!)).toEqual([5, 2]);
    expect(tensorDims(g.requireValue('b').initializer!)).toEqual([1, 2]);
    expect(validateModel(model)).toEqual([]);
    const { logp } = await run(model, { x: input(2, 5) }, ['logp']);
    expect(logp).toHaveLength(4);
  });

  it('Gemm transB=0 without softmax: weight [F, C_new], broadcast bias [1, C_new]', async () => {
    const model = gemmTransB0();
    replaceHead(model, { classes: 4 });
    expect(tensorDims(model.graph.requireValue('w').initializer!)).toEqual([5, 4]);
    expect(tensorDims(model.graph.requireValue('b').initializer!)).toEqual([1, 4]);
    expect(model.graph.requireValue('out').shape).toEqual(['batch', 4]);
    const { out } = await run(model, { x: input(2, 5) }, ['out']);
    expect(out).toHaveLength(8);
  });
});

describe('replaceHead refusals', () => {
  it('an output produced by something else than a head', async () => {
    const model = await loadModel(MNIST_MLP);
    const g = model.graph;
    g.addOutput(new GraphBuilder(g).op('Relu', [g.requireValue('logits')], {}, { name: 'relu_out', output: 'positive' }));
    expectRefused(() => replaceHead(model, { classes: 3, output: 'positive' }), /output 'positive' is produced by Relu node 'relu_out', not a classifier head .*--head-output/);
  });

  it('a name that is not a graph output', async () => {
    const model = await loadModel(MNIST_MLP);
    expectRefused(() => replaceHead(model, { classes: 3, output: 'val_0' }), /'val_0' is not a graph output; the outputs are 'logits'/);
  });

  it('a weight shared with another node', () => {
    expectRefused(() => replaceHead(matmulModel({ sharedWeight: true }), { classes: 3 }), /'head.weight' of MatMul node 'head\/MatMul' is shared with MatMul node 'aux\/MatMul'/);
  });

  it('a weight whose feature count is not static (fed at run time)', () => {
    const model = newModel({ opset: 17 });
    const g = model.graph;
    const x = g.addInput('x', undefined).setTensorType(DataType.FLOAT, ['batch', 'F']);
    const w = g.addInput('w', undefined).setTensorType(DataType.FLOAT, [10, 'F']);
    g.addOutput(new GraphBuilder(g).op('Gemm', [x, w], { transB: 1 }, { name: 'fc', output: 'y' }));
    expectRefused(() => replaceHead(model, { classes: 2 }), /weight 'w' of Gemm node 'fc' is a graph input without a stored tensor, not a constant initializer, so its size is not static/);
  });

  it('a class count below 1 or fractional', async () => {
    const model = await loadModel(MNIST_MLP);
    expectRefused(() => replaceHead(model, { classes: 0 }), /class count must be a whole number of at least 1, got 0/);
    expectRefused(() => replaceHead(model, { classes: 2.5 }), /got 2.5/);
  });

  it('a softmax over another axis, and a head whose output is read elsewhere', () => {
    expectRefused(() => replaceHead(matmulModel({ softmax: 'Softmax', axis: 0 }), { classes: 3 }), /Softmax node 'softmax' normalizes over axis 0, not the last \(class\) axis/);
    const model = matmulModel({ softmax: 'Softmax' });
    const g = model.graph;
    g.addOutput(new GraphBuilder(g).op('ArgMax', [g.requireValue('logits')], {}, { name: 'argmax', output: 'pred' }));
    expectRefused(() => replaceHead(model, { classes: 3 }), /'logits' feeds ArgMax node 'argmax' besides Softmax node 'softmax'/);
  });
});

describe('regraft head (command action)', () => {
  function program(): { program: Command; out: string[] } {
    const out: string[] = [];
    const p = new Command('regraft').exitOverride();
    registerHead(p, { out: (l) => out.push(l), err: (l) => out.push(`ERR ${l}`), isTty: false });
    return { program: p, out };
  }

  it('writes a valid 3-class model and prints one line', async () => {
    const dir = tempDir('head-cli');
    const dest = join(dir, 'mnist-3.onnx');
    const { program: p, out } = program();
    await p.parseAsync(['head', MNIST_MLP, '-o', dest, '--classes', '3', '--seed', '4'], { from: 'user' });
    expect(out).toEqual(["replaced the head 'fc2': fc2.weight [10 x 128] -> [3 x 128], fc2.bias [10] -> [3] (freshly initialized, same names)"]);
    const written = await loadModel(dest);
    expect(written.graph.requireValue('logits').shape).toEqual(['N', 3]);
    expect(validateModel(written)).toEqual([]);
    expect(readFileSync(dest).length).toBeGreaterThan(100_000);
  });

  it('rejects --classes 0 as a usage error and reports pass refusals as RegraftError', async () => {
    const dir = tempDir('head-cli');
    await expect(program().program.parseAsync(['head', MNIST_MLP, '-o', join(dir, 'x.onnx'), '--classes', '0'], { from: 'user' })).rejects.toThrow(/--classes must be at least 1, got 0/);
    await expect(
      program().program.parseAsync(['head', MNIST_MLP, '-o', join(dir, 'x.onnx'), '--classes', '2', '--head-output', 'nope'], { from: 'user' }),
    ).rejects.toThrow(/'nope' is not a graph output/);
  });
});

/**
 * Writes MNIST test-split samples [from, from + count) as NPY with labels relabelled, like writeMnistNpy but past
 * the images the base model was pretrained on.
 */
async function writeMnistSlice(dir: string, name: string, from: number, count: number, relabel: (y: number) => number): Promise<string> {
  const ds = await loadDataset(MNIST_SUBSET);
  const x = join(dir, `${name}-x.npy`);
  const y = join(dir, `${name}-y.npy`);
  writeFileSync(x, encodeNpy('<f4', [count, 784], ds.features.slice(from * 784, (from + count) * 784)));
  writeFileSync(y, encodeNpy('<i8', [count], BigInt64Array.from(ds.labels.subarray(from, from + count), (l) => BigInt(relabel(l)))));
  return `npy:${x},${y}`;
}

const PRETRAIN_IMAGES = 5000;

describe('fine-tuning a replaced head', () => {
  it('learns "digit < 5" from 400 new MNIST images with fc1 frozen, leaving fc1 exactly as it was', async () => {
    const dir = tempDir('head-finetune');
    // The shipped model is untrained and a frozen random fc1 tops out near 0.75 here: transfer needs features worth
    // keeping, so first train it on the 10 digits (images 0..PRETRAIN_IMAGES), then fine-tune on images it never saw.
    const base = await train({ model: MNIST_MLP, data: MNIST_SUBSET, limit: PRETRAIN_IMAGES, out: join(dir, 'base'), epochs: 2, batchSize: 32, optimizer: 'adam', lr: 0.003, seed: 1 });
    const pretrained = (await trainedInferenceModel(base.runDir, { checkpoint: 'last' })).model;
    const model = clone(pretrained);
    replaceHead(model, { classes: 2, seed: 0 });
    const modelPath = join(dir, 'mnist-2.onnx');
    await saveModel(model, modelPath);
    const data = await writeMnistSlice(dir, 'lt5', PRETRAIN_IMAGES, 400, (y) => (y < 5 ? 1 : 0));
    const result = await train({ model: modelPath, data, valSplit: 0.25, out: join(dir, 'run'), epochs: 2, batchSize: 16, optimizer: 'adam', lr: 0.01, freeze: ['fc1.*'], seed: 1 });
    // Frozen parameters are not trained, so the checkpoint holds only the new head (and its optimizer state); the
    // model it restores to keeps fc1 byte for byte.
    const tensors = await checkpointTensors(result.runDir, 'last');
    expect([...tensors.keys()].filter((n) => n.startsWith('fc1'))).toEqual([]);
    expect(tensors.get('fc2.weight')!.dims).toEqual([2, 128]);
    expect(bytesOf(Float32Array.from(tensors.get('fc2.weight')!.data)).equals(bytesOf(weightValues(model, 'fc2.weight')))).toBe(false);
    const restored = (await trainedInferenceModel(result.runDir, { checkpoint: 'last' })).model;
    for (const name of ['fc1.weight', 'fc1.bias']) {
      expect(bytesOf(weightValues(restored, name)).equals(bytesOf(weightValues(pretrained, name)))).toBe(true);
    }
    expect(result.metrics[result.metrics.length - 1].val_accuracy).toBeGreaterThan(0.8);
  });
});
