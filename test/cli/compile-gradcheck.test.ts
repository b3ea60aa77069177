// `regraft compile` and `regraft gradcheck` through main() with captured output.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/dtype.js';
import { newModel, type Model } from '../../src/ir/model.js';
import type { Value } from '../../src/ir/value.js';
import { loadModel, saveModel } from '../../src/model-io.js';
import { buildMlp } from '../../src/models/builders.js';
import { smallMlp } from '../compile/models.js';
import { transformerFixture } from '../fixtures-npz.js';
import { runCli } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'regraft-compile-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** An MLP whose logits pass through TopK, an op with no gradient rule: x -> Gemm -> TopK(k=2) -> values. */
function mlpWithTopK(): Model {
  const model = buildMlp({ inputs: 6, hidden: [], classes: 4, seed: 1 });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const logits = g.outputs[0];
  g.removeOutput(logits);
  const [values] = b.ops('TopK', [logits, b.int64Init('k', [2], [1])], {}, 2, { name: 'top2' });
  values.setTensorType(DataType.FLOAT, ['N', 2]);
  g.addOutput(values);
  return model;
}

describe('regraft compile', () => {
  it('--momentum with --optimizer sgd is refused (exit 2) with the optimizer to use, and nothing is written', async () => {
    const src = join(dir, 'mlp-for-flags.onnx');
    const out = join(dir, 'never-step.onnx');
    await saveModel(smallMlp(), src);
    const run = await runCli('compile', src, '-o', out, '--loss', 'cross-entropy', '--momentum', '0.9');
    expect(run.code).toBe(2);
    expect(run.err).toEqual([
      "regraft: compile: --momentum 0.9 does nothing with --optimizer sgd: for SGD with momentum (PyTorch's SGD(momentum=...)) use --optimizer momentum",
    ]);
    await expect(stat(out)).rejects.toThrow();
  });

  it('writes the step and prints its summary', async () => {
    const src = join(dir, 'mlp.onnx');
    const out = join(dir, 'mlp-step.onnx');
    await saveModel(smallMlp(), src);
    const run = await runCli('compile', src, '-o', out, '--loss', 'cross-entropy', '--l2', '0.01', '--optimizer', 'momentum', '--emit-gradients');
    expect(run.err).toEqual([]);
    expect(run.code).toBe(0);
    expect((await stat(out)).size).toBeGreaterThan(0);
    expect(run.out[0]).toMatch(/^wrote .*mlp-step\.onnx: 4 trainable parameters, 4 state tensors, \d+ nodes$/);
    expect(run.out.join('\n')).toContain('inputs: input, labels, lr');
    expect(run.out.join('\n')).toContain('penalized: fc1.weight, fc2.weight');
    const step = await loadModel(out);
    expect(step.graph.outputs.map((v) => v.name)).toContain('fc1.weight_grad');
    expect(step.graph.inputs.map((v) => v.name)).toContain('fc1.weight.momentum_buffer');
  });

  it('--freeze and --optimizer none reach the compiler', async () => {
    const src = join(dir, 'mlp-freeze.onnx');
    const out = join(dir, 'mlp-freeze-step.onnx');
    await saveModel(smallMlp(), src);
    const run = await runCli('compile', src, '-o', out, '--loss', 'cross-entropy', '--optimizer', 'none', '--freeze', 'fc1.*');
    expect(run.code).toBe(0);
    expect(run.out[0]).toMatch(/2 trainable parameters, 0 state tensors/);
    const step = await loadModel(out);
    expect(step.graph.inputs.map((v) => v.name)).not.toContain('lr');
  });

  it('--train, --untie and --freeze on tied weights and constants: what they do, and one line when they cannot', async () => {
    const gpt2 = transformerFixture('gpt2').model('dynamo');
    const encoder = transformerFixture('transformer-encoder').model('dynamo');
    const out = join(dir, 'fixture-step.onnx');
    const tied = await runCli('compile', gpt2, '-o', out, '--loss', 'mse', '--optimizer', 'adamw');
    expect(tied.out[0]).toMatch(/: 28 trainable parameters/);
    expect(tied.out).toContain('  tied: val_271 = transpose(lm_head.weight), trained as one tensor (--untie trains them apart)');
    expect(tied.out).toContain('  weight decay covers 10 of 28 trained tensors (biases and normalization scales and shifts left out; --penalize all covers every one)');
    const untied = await runCli('compile', gpt2, '-o', out, '--loss', 'mse', '--untie');
    expect(untied.out[0]).toMatch(/: 29 trainable parameters/);
    const scale = await runCli('compile', encoder, '-o', out, '--loss', 'cross-entropy', '--train', 'val_100');
    expect(scale.out[0]).toMatch(/: 28 trainable parameters/);
    const half = await runCli('compile', gpt2, '-o', join(dir, 'never.onnx'), '--loss', 'mse', '--freeze', 'val_271');
    expect(half.code).toBe(1);
    expect(half.err).toEqual(["regraft: 'val_271' is frozen but 'lm_head.weight', which holds the same weights (transposed), is not: freeze both, or pass --untie to train them as separate tensors"]);
    const none = await runCli('compile', encoder, '-o', join(dir, 'never.onnx'), '--loss', 'cross-entropy', '--train', 'scale*');
    expect(none.code).toBe(1);
    expect(none.err).toEqual(["regraft: --train 'scale*' matches no initializer; list them with 'regraft inspect MODEL --trainable'"]);
    await expect(stat(join(dir, 'never.onnx'))).rejects.toThrow();
  });

  it('a bad --loss is a usage error (exit 2)', async () => {
    const src = join(dir, 'mlp-bad.onnx');
    await saveModel(smallMlp(), src);
    const run = await runCli('compile', src, '-o', join(dir, 'never.onnx'), '--loss', 'hinge');
    expect(run.code).toBe(2);
    await expect(stat(join(dir, 'never.onnx'))).rejects.toThrow();
  });

  it('an op without a gradient rule on the path exits 1 with one line naming op, node and path', async () => {
    const src = join(dir, 'topk.onnx');
    await saveModel(mlpWithTopK(), src);
    const run = await runCli('compile', src, '-o', join(dir, 'topk-step.onnx'), '--loss', 'mse');
    expect(run.code).toBe(1);
    expect(run.err).toHaveLength(1);
    expect(run.err[0]).toMatch(/no gradient rule for TopK node 'top2'/);
    expect(run.err[0]).toMatch(/path .*TopK node 'top2'.*->/);
    expect(run.err[0]).not.toContain('\n');
  });
});

/**
 * X [batch, sequence, 6] -> MatMul W1 -> h [batch, sequence, 4] -> `build` -> MatMul W2 -> logits (the first output
 * after ReduceMean over the sequence): a place for shape patterns the analysis cannot follow.
 */
function modelThrough(build: (b: GraphBuilder, h: Value) => Value): Model {
  const model = newModel({ opset: 17 });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const x = g.addInput('X').setTensorType(DataType.FLOAT, ['batch', 'sequence', 6]);
  const h = b.op('MatMul', [x, b.floatInit('W1', Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)), [6, 4])], {}, { name: 'first' });
  const y = b.op('MatMul', [build(b, h), b.floatInit('W2', Float32Array.from({ length: 12 }, (_, i) => Math.cos(i)), [4, 3])], {}, { name: 'second', output: 'projected' });
  g.addOutput(b.op('ReduceMean', [y], { axes: [1], keepdims: 0 }, { name: 'pool', output: 'logits' }));
  return model;
}

describe('shape patterns the analysis cannot follow', () => {
  it('one line naming the node that needs the shape, where the analysis lost it, and the three ways out; nothing written', async () => {
    // TopK has no shape rule: its output's rank is unknown, so is the MatMul's after it, and ReduceMean's gradient needs it.
    const model = modelThrough((b, h) => b.ops('TopK', [h, b.int64Init('k', [4], [1])], { axis: -1 }, 2, { name: 'top4' })[0]);
    const src = join(dir, 'through-topk.onnx');
    const out = join(dir, 'through-topk-step.onnx');
    await saveModel(model, src);
    const run = await runCli('compile', src, '-o', out, '--loss', 'cross-entropy');
    expect(run.code).toBe(1);
    expect(run.err).toHaveLength(1);
    expect(run.err[0]).toBe(
      "regraft: ReduceMean node 'pool': the rank of 'projected' is unknown, so its gradient cannot be built; the shape analysis cannot follow TopK node 'top4' (no shape rule for TopK): " +
        "fix the data inputs' dynamic dims with compile --dim batch=SIZE --dim sequence=SIZE, upgrade it with: regraft convert MODEL -o NEW.onnx --opset 17, or --freeze the parameters that feed ReduceMean node 'pool' so no gradient flows through it",
    );
    await expect(stat(out)).rejects.toThrow();
  });

  it('a bound that depends on a dynamic dim: the line says so and compile --dim fixes it', async () => {
    // Padded at the end of the sequence to 16 positions: Pad's gradient needs its pads as constants, here 16 - sequence.
    const model = modelThrough((b, h) => {
      const sequence = b.op('Gather', [b.op('Shape', [h]), b.int64Init('one', [1], [])], { axis: 0 });
      const missing = b.unsqueeze(b.sub(b.int64Init('sixteen', [16], []), sequence), [0]);
      const pads = b.op('Concat', [b.ints([0, 0, 0, 0]), missing, b.ints([0])], { axis: 0 });
      return b.op('Pad', [h, pads], {}, { name: 'pad_to_16' });
    });
    const src = join(dir, 'pad-to-16.onnx');
    const out = join(dir, 'pad-to-16-step.onnx');
    await saveModel(model, src);
    const run = await runCli('compile', src, '-o', out, '--loss', 'cross-entropy');
    expect(run.code).toBe(1);
    expect(run.err).toHaveLength(1);
    expect(run.err[0]).toMatch(
      /^regraft: Pad node 'pad_to_16': pads '(\S+)' are computed at run time and the gradient needs them as a constant; '\1' holds \[0, 0, 0, 0, -sequence \+ 16, 0\], which depends on the data inputs' dynamic dims: fix the data inputs' dynamic dims with compile --dim sequence=SIZE, upgrade it with: regraft convert MODEL -o NEW.onnx --opset 17, or --freeze the parameters that feed Pad node 'pad_to_16' so no gradient flows through it$/,
    );
    const fixed = await runCli('compile', src, '-o', out, '--loss', 'cross-entropy', '--dim', 'sequence=10');
    expect(fixed.err).toEqual([]);
    expect(fixed.code).toBe(0);
    expect((await loadModel(out)).graph.requireValue('X').shape).toEqual(['batch', 10, 6]);
  });
});

describe('regraft gradcheck', () => {
  it('prints the error of every parameter of an MNIST-style MLP and exits 0', async () => {
    const src = join(dir, 'mnist-mlp-small.onnx');
    // mnist-mlp.onnx's form (Flatten of [1, 28, 28] images, Gemm-Relu-Gemm) at a width that keeps the check fast.
    await saveModel(buildMlp({ inputs: 784, hidden: [8], classes: 10, sampleShape: [1, 28, 28], seed: 2 }), src);
    const run = await runCli('gradcheck', src, '--loss', 'cross-entropy', '--samples', '4');
    expect(run.err).toEqual([]);
    expect(run.code).toBe(0);
    for (const p of ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']) {
      expect(run.out.some((l) => l.startsWith(p) && /max rel error \d\.\d\de[-+]\d+/.test(l)), p).toBe(true);
    }
    expect(run.out[run.out.length - 1]).toMatch(/^worst relative error .* over 4 parameters$/);
  });

  it('a failed check exits 1 (a tolerance of 0 cannot be met)', async () => {
    const src = join(dir, 'tiny-mlp.onnx');
    await saveModel(buildMlp({ inputs: 5, hidden: [4], classes: 3, seed: 3 }), src);
    const run = await runCli('gradcheck', src, '--loss', 'mse', '--tolerance', '0');
    expect(run.code).toBe(1);
    expect(run.err[0]).toMatch(/exceeds --tolerance 0/);
  });
});

describe('models too old to differentiate', () => {
  const corpusModel = (name: string) => join(import.meta.dirname, '..', 'fixtures', 'onnx-backend', 'pytorch-converted', name, 'model.onnx');

  // PyTorch's exports of the ONNX backend data are opset 6: the backward pass needs Expand, Where and OneHot.
  it('an opset-6 export is refused with one line saying how to upgrade it', async () => {
    const out = join(dir, 'old-step.onnx');
    const run = await runCli('compile', corpusModel('test_Linear'), '-o', out, '--loss', 'mse');
    expect(run.code).toBe(1);
    expect(run.err).toHaveLength(1);
    expect(run.err[0]).toMatch(/opset 6; .*opset 9\+ .*upgrade it with: regraft convert MODEL -o NEW.onnx --opset 17/);
    await expect(stat(out)).rejects.toThrow();
  });

  it.each(['test_Linear', 'test_Conv2d_groups', 'test_PReLU_2d_multiparam', 'test_ConvTranspose2d', 'test_BatchNorm2d_eval'])(
    'after regraft convert --opset 17, %s compiles and its gradients match central differences',
    async (name) => {
      const upgraded = join(dir, `${name}-17.onnx`);
      const convert = await runCli('convert', corpusModel(name), '-o', upgraded, '--opset', '17');
      expect(convert.err).toEqual([]);
      expect(convert.out[0]).toMatch(/^upgraded opset 6 -> 17 \(IR version 8\): \d+ nodes rewritten$/);
      expect((await runCli('compile', upgraded, '-o', join(dir, `${name}-step.onnx`), '--loss', 'mse')).code).toBe(0);
      const check = await runCli('gradcheck', upgraded, '--loss', 'mse', '--tolerance', '1e-2');
      expect(check.err).toEqual([]);
      expect(check.code).toBe(0);
    },
  );

  it('convert --verify needs --opset (exit 2)', async () => {
    const run = await runCli('convert', corpusModel('test_Linear'), '-o', join(dir, 'never.onnx'), '--verify');
    expect(run.code).toBe(2);
    expect(run.err).toEqual(['regraft: convert: --verify checks an opset upgrade; give --opset N too']);
  });
});
