// onnxruntime's CUDA kernels as regraft records them (src/runtime/cuda-kernels.ts), the placement check over a
// model, and the training steps regraft compiles: every node of them has a CUDA kernel for its type.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { materializeConstantOfShape } from '../../bench/compile.js';
import { cudaPlacement, describeCudaPlacement } from '../../src/check/cuda-placement.js';
import { compileTrainStep } from '../../src/compile/compile.js';
import type { OptimizerKind } from '../../src/compile/optimizers.js';
import { DataType, GraphBuilder, type Model } from '../../src/ir/index.js';
import { buildLeNet, buildMlp } from '../../src/models/builders.js';
import { modelFromBytes, modelToBytes } from '../../src/model-io.js';
import { Tensor } from '../../src/runtime/onnxruntime.js';
import { createSession } from '../../src/runtime/session.js';
import { LOSS_NAME } from '../../src/training-interface.js';
import { Rng } from '../../src/util/rng.js';
import { schemaSinceVersion } from '../../src/onnx/schema-versions.js';
import { recurrenceLengthDims } from '../../src/passes/decompose-rnn.js';
import { upgradeOpset } from '../../src/passes/upgrade-opset.js';
import { cudaKernelFor } from '../../src/runtime/cuda-kernels.js';
import { EXPORTERS, fixtureModel, loadFixture } from '../transformer-fixtures.js';
import { attentionBlock, bnResidualCnn } from '../compile/models.js';

describe('the CUDA kernel table', () => {
  it('matches since-versions as onnxruntime does: closed ranges and single versions inside, an open range at its start only', () => {
    // OperatorKernels.md, CUDA: Add 7-12, 13, 14+; Pad 2-10 ... 18+; Gelu 20+ only; Equal 7-10 for bool/int only.
    expect(cudaKernelFor('Add', 14)).toBe('float');
    expect(cudaKernelFor('Add', 9)).toBe('float');
    expect(cudaKernelFor('Add', 6)).toBe('none');
    expect(cudaKernelFor('Pad', 18)).toBe('float');
    expect(cudaKernelFor('Pad', 19)).toBe('none');
    expect(cudaKernelFor('Gelu', 20)).toBe('float');
    expect(cudaKernelFor('Gelu', 1)).toBe('none');
    expect(cudaKernelFor('Equal', 7)).toBe('other types only');
    expect(cudaKernelFor('Equal', 13)).toBe('float');
    expect(cudaKernelFor('And', 7)).toBe('other types only');
    // Ops the CUDA provider lacks: CPU-only in onnxruntime.
    expect(cudaKernelFor('Mean', 13)).toBe('none');
    expect(cudaKernelFor('SoftmaxCrossEntropyLoss', 13)).toBe('none');
  });

  it("resolves a model's opset to the op's since-version through ONNX's schema history", () => {
    expect(schemaSinceVersion('Pad', 20)).toBe(19);
    expect(schemaSinceVersion('Pad', 18)).toBe(18);
    expect(schemaSinceVersion('Add', 17)).toBe(14);
    expect(schemaSinceVersion('Gelu', 17)).toBeUndefined();
    expect(schemaSinceVersion('NoSuchOp', 17)).toBeUndefined();
  });
});

describe('cudaPlacement', () => {
  // x -> Relu -> Mean(., x) -> Pad -> y, at opset 19: Mean has no CUDA kernel, Pad-19 none at its version.
  function model(opset: number): Model {
    const m = buildMlp({ hidden: [4], inputs: 3, classes: 2, opset });
    const g = m.graph;
    const out = g.outputs[0];
    const b = new GraphBuilder(g);
    const mean = b.op('Mean', [out, out]);
    const padded = b.op('Pad', [mean, b.ints([0, 0, 0, 0], 'pads')], { mode: 'constant' });
    padded.setTensorType(DataType.FLOAT, out.shape ?? undefined);
    g.removeOutput(out);
    g.addOutput(padded);
    return m;
  }

  it('names the nodes without a CUDA kernel, grouped by op, in one line', () => {
    const p = cudaPlacement(model(19));
    expect(p.unplaced.map((u) => [u.op, u.sinceVersion, u.reason, u.nodes.length])).toEqual([
      ['Mean', 13, 'no CUDA kernel', 1],
      ['Pad', 19, 'no CUDA kernel at this version', 1],
    ]);
    expect(describeCudaPlacement(p, 'the train step')).toBe(
      "onnxruntime's CUDA provider has no kernel for 2 nodes of the train step (Mean, Pad-19); they run on CPU with copies around them",
    );
    // At opset 18 the Pad has its kernel.
    expect(cudaPlacement(model(18)).unplaced.map((u) => u.op)).toEqual(['Mean']);
  });

  it('says nothing for a model every node of which has a kernel', () => {
    const p = cudaPlacement(buildMlp());
    expect(p.unplaced).toEqual([]);
    expect(describeCudaPlacement(p, 'the train step')).toBeUndefined();
  });
});

const LIGHT = join(import.meta.dirname, '..', 'fixtures', 'onnx-backend', 'light');

/** The models the suite trains, each with its loss. */
const MODELS: Record<string, () => Promise<{ model: Model; loss: 'cross-entropy' | 'causal-lm' | 'mse'; classAxis?: 1 | -1; dims?: Record<string, number> }>> = {
  mlp: async () => ({ model: buildMlp(), loss: 'cross-entropy' }),
  lenet: async () => ({ model: buildLeNet(), loss: 'cross-entropy' }),
  'batchnorm cnn': async () => ({ model: bnResidualCnn(), loss: 'cross-entropy' }),
  'attention block': async () => ({ model: attentionBlock(), loss: 'cross-entropy' }),
  // The zoo architectures of zoo.test.ts that compile in well under a second (AlexNet, VGG-19, ZFNet-512, ResNet-50,
  // DenseNet-121 and Inception v2 take 0.5-4 s each; they placed whole too when this test was written).
  ...Object.fromEntries(
    ['squeezenet', 'shufflenet', 'inception_v1'].map((name) => [
      `${name} (zoo)`,
      async () => {
        const file = `light_${name}.onnx`;
        const model = modelFromBytes(readFileSync(join(LIGHT, file)), file);
        upgradeOpset(model, 17);
        materializeConstantOfShape(model, 0, 'zeros');
        return { model, loss: 'cross-entropy' as const };
      },
    ]),
  ),
  ...Object.fromEntries(
    ['bert', 'distilbert', 'vit', 'transformer-encoder', 'gru', 'lstm', 'gpt2', 'bert-token'].flatMap((name) =>
      EXPORTERS.map((exporter) => [
        `${name} (${exporter})`,
        async () => {
          const f = loadFixture(name, exporter);
          const model = await fixtureModel(f);
          // The recurrent ones are unrolled over the batch's 10 steps.
          const dims = Object.fromEntries(recurrenceLengthDims(model).map((d) => [d, 10]));
          return { model, loss: f.loss.kind as 'cross-entropy' | 'causal-lm', classAxis: f.loss.class_axis as 1 | -1, dims };
        },
      ]),
    ),
  ),
};

describe.each(Object.keys(MODELS))('the train step of %s', (name) => {
  it.each<OptimizerKind>(['adam', 'sgd'])('with %s has a CUDA kernel for every node', async (optimizer) => {
    const { model, loss, classAxis, dims } = await MODELS[name]();
    const step = compileTrainStep(model, { loss, classAxis, optimizer, dims, l2: 1e-4, provider: 'cuda' });
    const p = cudaPlacement(step.model);
    expect(p.unchecked).toEqual({});
    expect(p.unplaced.map((u) => `${u.op}-${u.sinceVersion} x${u.nodes.length}`)).toEqual([]);
  }, 30_000);
});

describe('train steps at opset 19 and later', () => {
  // Newer schemas than the CUDA kernels: Equal-19, Size-19/21, ConstantOfShape-20/21 (kernels 13, 13, 9), which the
  // loss and the gradients no longer emit, and Flatten-21 (kernel 13): LeNet's own Flatten, which regraft keeps as
  // the model has it. The list is exact, so that a change of emission (or of the table) shows here.
  it.each([
    [19, 'mlp', []],
    [21, 'mlp', []],
    [19, 'lenet', []],
    [21, 'lenet', ['Flatten-21 x1']],
  ])('at opset %i, the %s step (Adam) runs exactly these on CPU', (opset, name, expected) => {
    const model = name === 'mlp' ? buildMlp({ opset: 13 }) : buildLeNet({ opset: 13 });
    upgradeOpset(model, opset);
    const step = compileTrainStep(model, { loss: 'cross-entropy', optimizer: 'adam', l2: 1e-4, provider: 'cuda' });
    expect(cudaPlacement(step.model).unplaced.map((u) => `${u.op}-${u.sinceVersion} x${u.nodes.length}`)).toEqual(expected);
  });
});

describe('the step compiled for the CPU', () => {
  it('keeps onnxruntime\'s fused SoftmaxCrossEntropyLoss, the one node a CUDA provider would run on CPU, with the same loss as the GPU form', async () => {
    const cpu = compileTrainStep(buildMlp({ hidden: [8], seed: 0 }), { loss: 'cross-entropy', optimizer: 'none' });
    const gpu = compileTrainStep(buildMlp({ hidden: [8], seed: 0 }), { loss: 'cross-entropy', optimizer: 'none', provider: 'cuda' });
    expect(cudaPlacement(cpu.model).unplaced.map((u) => `${u.op} x${u.nodes.length}`)).toEqual(['SoftmaxCrossEntropyLoss x1']);
    expect(gpu.model.graph.nodes.some((n) => n.opType === 'SoftmaxCrossEntropyLoss')).toBe(false);
    const rng = new Rng(3);
    const feeds = {
      input: new Tensor('float32', Float32Array.from({ length: 6 * 784 }, () => rng.uniform(0, 1)), [6, 784]),
      labels: new Tensor('int64', BigInt64Array.from([0n, 3n, 9n, -100n, 5n, 1n]), [6]),
    };
    const lossOf = async (m: Model) => {
      const session = await createSession(modelToBytes(m), { name: 'step' });
      try {
        return ((await session.run(feeds, [LOSS_NAME]))[LOSS_NAME].data as Float32Array)[0];
      } finally {
        await session.release();
      }
    };
    const [a, b] = [await lossOf(cpu.model), await lossOf(gpu.model)];
    expect(a).toBeGreaterThan(0);
    expect(Math.abs(a - b)).toBeLessThan(1e-6 * a);
  });
});
