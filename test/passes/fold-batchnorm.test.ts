import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { materializeConstantOfShape } from '../../bench/compile.js';
import { cloneModel, DataType, float, floatTensor, GraphBuilder, newModel, tensorDims, tensorToFloat32, type Model, type Value } from '../../src/ir/index.js';
import { loadModel, modelFromBytes } from '../../src/model-io.js';
import { verifyEquivalent, type VerifyReport } from '../../src/check/equivalence.js';
import { foldBatchNorm, foldBatchNormPass, upgradeOpset } from '../../src/passes/index.js';
import { Rng } from '../../src/util/rng.js';
import { exportRun } from '../../src/training/export.js';
import { train } from '../../src/training/trainer.js';
import { runCli } from '../cli/helpers.js';
import { MNIST_SUBSET, tempDir, writeModel } from '../training/fixtures/runs.js';
import { bnResidualCnn } from '../compile/models.js';

const TOLERANCE = { atol: 1e-4, rtol: 1e-4 };

function uniform(rng: Rng, n: number, lo: number, hi: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform(lo, hi));
}

/** An inference-form BatchNormalization over `channels` with seeded, clearly non-trivial statistics. */
function batchNorm(b: GraphBuilder, rng: Rng, x: Value, channels: number, output = 'y'): Value {
  const scale = b.floatInit('bn.weight', uniform(rng, channels, 0.5, 2), [channels]);
  const shift = b.floatInit('bn.bias', uniform(rng, channels, -1, 1), [channels]);
  const mean = b.floatInit('bn.running_mean', uniform(rng, channels, -0.5, 0.5), [channels]);
  const variance = b.floatInit('bn.running_var', uniform(rng, channels, 0.2, 3), [channels]);
  return b.op('BatchNormalization', [x, scale, shift, mean, variance], { epsilon: float(1e-3) }, { name: 'bn', output });
}

function withOutput(model: Model, y: Value, shape: (number | string)[]): Model {
  y.setTensorType(DataType.FLOAT, shape);
  model.graph.addOutput(y);
  return model;
}

/** x [2, cin, 5, 5] -> Conv or ConvTranspose (3x3, pad 1) -> BatchNormalization -> y. */
function convBn(opts: { transpose?: boolean; bias: boolean; group: number; cin: number; cout: number }): Model {
  const model = newModel({ opset: 17 });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const rng = new Rng(opts.cout * 7 + opts.group);
  const x = g.addInput('x').setTensorType(DataType.FLOAT, [2, opts.cin, 5, 5]);
  const dims = opts.transpose ? [opts.cin, opts.cout / opts.group, 3, 3] : [opts.cout, opts.cin / opts.group, 3, 3];
  const w = b.floatInit('conv.weight', uniform(rng, dims.reduce((a, d) => a * d), -0.5, 0.5), dims);
  const inputs = opts.bias ? [x, w, b.floatInit('conv.bias', uniform(rng, opts.cout, -1, 1), [opts.cout])] : [x, w];
  const attrs = { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: opts.group, ...(opts.transpose ? { strides: [2, 2] } : {}) };
  const z = b.op(opts.transpose ? 'ConvTranspose' : 'Conv', inputs, attrs, { name: 'conv' });
  const side = opts.transpose ? 9 : 5;
  return withOutput(model, batchNorm(b, rng, z, opts.cout), [2, opts.cout, side, side]);
}

/** x [N, 6] -> Gemm (alpha 0.5, beta 2, C [F]) or MatMul(+Add) -> BatchNormalization -> y [N, 4]. */
function linearBn(kind: 'gemm' | 'matmul' | 'matmul-add', transB = 0): Model {
  const model = newModel({ opset: 17 });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const rng = new Rng(21 + transB);
  const x = g.addInput('x').setTensorType(DataType.FLOAT, ['N', 6]);
  const dims = transB ? [4, 6] : [6, 4];
  const w = b.floatInit('fc.weight', uniform(rng, 24, -0.5, 0.5), dims);
  const bias = b.floatInit('fc.bias', uniform(rng, 4, -1, 1), kind === 'matmul-add' ? [1, 4] : [4]);
  let z: Value;
  if (kind === 'gemm') z = b.op('Gemm', [x, w, bias], { transB, alpha: float(0.5), beta: float(2) }, { name: 'fc' });
  else if (kind === 'matmul') z = b.op('MatMul', [x, w], {}, { name: 'fc' });
  else z = b.op('Add', [b.op('MatMul', [x, w], {}, { name: 'fc' }), bias], {}, { name: 'fc_add' });
  return withOutput(model, batchNorm(b, rng, z, 4), ['N', 4]);
}

function opTypes(model: Model): string[] {
  return model.graph.nodes.map((n) => n.opType);
}

function worst(report: VerifyReport): number {
  return Math.max(...report.outputs.map((o) => o.maxAbsDiff));
}

/** Folds a copy of `original`; checks that every BatchNormalization went and that onnxruntime sees no difference. */
async function foldAndVerify(original: Model, expectedFolds: number): Promise<{ folded: Model; report: VerifyReport }> {
  const folded = cloneModel(original);
  const bnsBefore = opTypes(original).filter((op) => op === 'BatchNormalization').length;
  const result = foldBatchNorm(folded);
  expect(result.skipped).toEqual([]);
  expect(result.folded).toHaveLength(expectedFolds);
  expect(bnsBefore).toBe(expectedFolds);
  expect(opTypes(folded)).not.toContain('BatchNormalization');
  expect(folded.graph.outputs.map((v) => v.name)).toEqual(original.graph.outputs.map((v) => v.name));
  const report = await verifyEquivalent(original, folded, TOLERANCE);
  expect(report.ok, `max |diff| ${worst(report)}`).toBe(true);
  return { folded, report };
}

describe('foldBatchNorm: single layers', () => {
  const convCases = [
    { title: 'Conv with bias', opts: { bias: true, group: 1, cin: 3, cout: 4 } },
    { title: 'Conv without bias (one is added)', opts: { bias: false, group: 1, cin: 3, cout: 4 } },
    { title: 'depthwise Conv (group = C)', opts: { bias: false, group: 4, cin: 4, cout: 4 } },
    { title: 'ConvTranspose with bias', opts: { transpose: true, bias: true, group: 1, cin: 3, cout: 4 } },
    { title: 'grouped ConvTranspose without bias (group 2, Cin 4, Cout 6)', opts: { transpose: true, bias: false, group: 2, cin: 4, cout: 6 } },
  ];
  for (const { title, opts } of convCases) {
    it(`${title}: same outputs, no BatchNormalization, y keeps its name`, async () => {
      const original = convBn(opts);
      const { folded } = await foldAndVerify(original, 1);
      expect(opTypes(folded)).toEqual([opts.transpose ? 'ConvTranspose' : 'Conv']);
      const conv = folded.graph.nodes[0];
      expect(conv.output(0).name).toBe('y');
      expect(conv.inputs.map((v) => v?.name)).toEqual(['x', 'conv.weight', 'conv.bias']);
      expect(tensorDims(conv.input(2)!.initializer!)).toEqual([opts.cout]);
      expect(folded.graph.initializers.map((v) => v.name).sort()).toEqual(['conv.bias', 'conv.weight']);
    });
  }

  for (const transB of [0, 1]) {
    it(`Gemm transB=${transB} with alpha and beta on [N, F]`, async () => {
      const { folded } = await foldAndVerify(linearBn('gemm', transB), 1);
      expect(opTypes(folded)).toEqual(['Gemm']);
      expect(folded.graph.nodes[0].attributes.has('beta')).toBe(false);
    });
  }

  it('MatMul without bias gains an Add; MatMul + Add folds into both', async () => {
    expect(opTypes((await foldAndVerify(linearBn('matmul'), 1)).folded)).toEqual(['MatMul', 'Add']);
    expect(opTypes((await foldAndVerify(linearBn('matmul-add'), 1)).folded)).toEqual(['MatMul', 'Add']);
  });

  it('leaves the original tensors alone (a clone shares them) and runs as a Pass', () => {
    const original = convBn({ bias: true, group: 1, cin: 3, cout: 4 });
    const before = tensorToFloat32(original.graph.requireValue('conv.weight').initializer!).slice();
    const copy = cloneModel(original);
    const result = foldBatchNormPass.run(copy, {});
    expect(result.modified).toBe(true);
    expect(result.folded).toEqual([{ bn: 'bn', into: 'conv' }]);
    expect(tensorToFloat32(original.graph.requireValue('conv.weight').initializer!)).toEqual(before);
    expect(tensorToFloat32(copy.graph.requireValue('conv.weight').initializer!)).not.toEqual(before);
    expect(foldBatchNormPass.run(copy, {}).modified).toBe(false);
  });
});

describe('foldBatchNorm: what it leaves alone', () => {
  it('a BatchNormalization whose input has another reader', async () => {
    const model = convBn({ bias: true, group: 1, cin: 3, cout: 4 });
    const g = model.graph;
    const extra = g.addNode('Relu', [g.nodes[0].output(0)], {}, { name: 'other', outputs: ['z_relu'] }).output(0);
    g.addOutput(extra.setTensorType(DataType.FLOAT, [2, 4, 5, 5]));
    const result = foldBatchNorm(model);
    expect(result.folded).toEqual([]);
    expect(result.modified).toBe(false);
    expect(result.skipped).toEqual([{ bn: 'bn', reason: expect.stringContaining("also read by Relu node 'other'") }]);
    expect(opTypes(model)).toContain('BatchNormalization');
  });

  it('a BatchNormalization whose input is a graph output, or whose weight is shared', () => {
    const asOutput = convBn({ bias: true, group: 1, cin: 3, cout: 4 });
    asOutput.graph.addOutput(asOutput.graph.nodes[0].output(0));
    expect(foldBatchNorm(asOutput).skipped[0].reason).toMatch(/is also a graph output/);

    const shared = convBn({ bias: true, group: 1, cin: 3, cout: 4 });
    const g = shared.graph;
    g.addOutput(g.addNode('Identity', [g.requireValue('conv.weight')], {}, { outputs: ['w_copy'] }).output(0));
    expect(foldBatchNorm(shared).skipped[0].reason).toMatch(/weight of Conv node 'conv' 'conv.weight' is shared/);
  });

  it('a training-mode BatchNormalization (batch statistics, running-statistics outputs)', () => {
    const model = convBn({ bias: true, group: 1, cin: 3, cout: 4 });
    const g = model.graph;
    const bn = g.nodes[1];
    const training = g.rebuildNode(bn, { outputs: [bn.output(0), 'running_mean', 'running_var'] });
    training.setAttribute('training_mode', 1);
    const result = foldBatchNorm(model);
    expect(result.folded).toEqual([]);
    expect(result.skipped).toEqual([{ bn: 'bn', reason: expect.stringContaining('training_mode=1') }]);
    expect(opTypes(model)).toEqual(['Conv', 'BatchNormalization']);
  });

  it('a BatchNormalization after a Relu, or after MatMul on a rank-3 input', () => {
    const model = newModel({ opset: 17 });
    const g = model.graph;
    const b = new GraphBuilder(g);
    const rng = new Rng(3);
    const x = g.addInput('x').setTensorType(DataType.FLOAT, [2, 4, 6]);
    const afterRelu = batchNorm(b, rng, b.op('Relu', [x], {}, { name: 'relu' }), 4, 'y1');
    g.addOutput(afterRelu);
    const mm = b.op('MatMul', [x, b.floatInit('w', uniform(rng, 24, -1, 1), [6, 4])], {}, { name: 'mm' });
    const s = b.floatInit('s2', uniform(rng, 4, 1, 2), [4]);
    g.addOutput(b.op('BatchNormalization', [mm, s, b.floatInit('b2', uniform(rng, 4, 0, 1), [4]), b.floatInit('m2', uniform(rng, 4, 0, 1), [4]), b.floatInit('v2', uniform(rng, 4, 1, 2), [4])], {}, { name: 'bn2', output: 'y2' }));
    const result = foldBatchNorm(model);
    expect(result.skipped).toEqual([
      { bn: 'bn', reason: expect.stringContaining("not computed by a Conv, ConvTranspose, Gemm or MatMul(+Add) (Relu node 'relu')") },
      { bn: 'bn2', reason: expect.stringContaining('rank 3') },
    ]);
  });
});

describe('foldBatchNorm: whole networks', () => {
  it('the residual CNN of the training tests (two BatchNormalizations after bias-free Convs)', async () => {
    const original = bnResidualCnn();
    const { folded, report } = await foldAndVerify(original, 2);
    expect(opTypes(folded).filter((op) => op === 'Conv')).toHaveLength(3);
    expect(worst(report)).toBeLessThan(1e-5);
  });

  it('light ResNet-50 (opset 17, materialized weights): all 53 BatchNormalizations folded', { timeout: 60_000 }, async () => {
    const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
    const path = join(root, 'test', 'fixtures', 'onnx-backend', 'light', 'light_resnet50.onnx');
    const original = modelFromBytes(readFileSync(path), path);
    upgradeOpset(original, 17);
    materializeConstantOfShape(original, 0);
    positiveVariances(original);
    // Softmax squeezes differences towards 0; its input (the logits) is compared too.
    const logits = original.graph.outputs[0].producer!.input(0)!;
    original.graph.addOutput(logits);
    const { report } = await foldAndVerify(original, 53);
    expect(report.outputs.map((o) => o.dims)).toEqual([[1, 1000], [1, 1000]]);
  });
});

/** input [N, 784] -> Gemm 16 -> BatchNormalization -> Relu -> Gemm 10 -> logits: a trainable BatchNormalization MLP. */
function bnMlp(): Model {
  const model = newModel({ opset: 17 });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const rng = new Rng(5);
  const x = g.addInput('input').setTensorType(DataType.FLOAT, ['N', 784]);
  const fc1 = b.op('Gemm', [x, b.floatInit('fc1.weight', uniform(rng, 16 * 784, -0.04, 0.04), [16, 784]), b.floatInit('fc1.bias', new Float32Array(16), [16])], { transB: 1 }, { name: 'fc1' });
  const h = b.op('Relu', [batchNorm(b, rng, fc1, 16, 'bn_out')], {}, { name: 'relu' });
  const logits = b.op('Gemm', [h, b.floatInit('fc2.weight', uniform(rng, 160, -0.25, 0.25), [10, 16]), b.floatInit('fc2.bias', new Float32Array(10), [10])], { transB: 1 }, { name: 'fc2', output: 'logits' });
  return withOutput(model, logits, ['N', 10]);
}

describe('export --fold-batchnorm', () => {
  it('folds after strip and before the check against the eval model; the CLI flag does the same', { timeout: 60_000 }, async () => {
    const dir = tempDir('fold-bn');
    const model = await writeModel(bnMlp(), dir, 'bn-mlp.onnx');
    const run = await train({ model, data: MNIST_SUBSET, limit: 96, batchSize: 32, epochs: 1, lr: 0.05, out: join(dir, 'run') });

    const plain = await exportRun(run.runDir, join(dir, 'plain.onnx'));
    expect(plain.batchNorm).toBeUndefined();
    expect(opTypes(await loadModel(join(dir, 'plain.onnx')))).toContain('BatchNormalization');

    const report = await exportRun(run.runDir, join(dir, 'folded.onnx'), { foldBatchNorm: true });
    expect(report.batchNorm).toEqual({ folded: [{ bn: 'bn', into: 'fc1' }], skipped: [] });
    expect(report.verify.ok).toBe(true);
    const exported = await loadModel(join(dir, 'folded.onnx'));
    expect(opTypes(exported)).toEqual(['Gemm', 'Relu', 'Gemm']);
    expect(exported.graph.nodes[1].input(0)?.name).toBe('bn_out');

    const cli = await runCli('export', run.runDir, '-o', join(dir, 'cli.onnx'), '--fold-batchnorm');
    expect(cli.code, cli.err.join('\n')).toBe(0);
    expect(cli.out[0]).toBe('folded 1 BatchNormalization node(s)');
    expect(opTypes(await loadModel(join(dir, 'cli.onnx')))).not.toContain('BatchNormalization');
  });
});

/**
 * Random running variances are half negative (NaN after sqrt, which would make every output NaN on both sides
 * and the comparison vacuous): they are replaced by |v| + 0.5.
 */
function positiveVariances(model: Model): void {
  for (const bn of model.graph.nodes.filter((n) => n.opType === 'BatchNormalization')) {
    const v = bn.input(4)!;
    const data = tensorToFloat32(v.initializer!).map((x) => Math.abs(x) + 0.5);
    v.initializer = floatTensor(v.name, data, tensorDims(v.initializer!));
  }
}
