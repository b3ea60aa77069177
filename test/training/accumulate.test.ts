// --accumulate N: N micro-batches per update give the update of one N-times-larger batch, up to float rounding
// (the gradients are summed in another order). On the MLP through train(), uneven last group included; on BERT
// (the dynamo export, no Dropout) through the same StepRunner the trainer drives.
import { join } from 'node:path';
import { Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { compileTrainStep, type CompileOptions } from '../../src/compile/compile.js';
import { tensorToFloat32 } from '../../src/ir/tensor.js';
import { loadModel, modelToBytes } from '../../src/model-io.js';
import { createSession } from '../../src/runtime/session.js';
import { StepRunner, stepModels } from '../../src/training/step-runner.js';
import { train } from '../../src/training/trainer.js';
import { relativeError, rows, transformerFixture } from '../fixtures-npz.js';
import { checkpointTensors, MNIST_SUBSET, tempDir, writeSmallMlp } from './fixtures/runs.js';

const dir = tempDir('accumulate');

function expectSameTensors(a: Map<string, { data: Float32Array }>, b: Map<string, { data: Float32Array }>, tol: number, label: string) {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  for (const [name, t] of a) expect(relativeError(t.data, b.get(name)!.data), `${label}: ${name}`).toBeLessThan(tol);
}

describe('gradient accumulation equals a larger batch', () => {
  it('MLP: batch 16 x 4 micro-batches = batch 64 (Adam, L2, clipping; 500 samples, the last update of 52)', async () => {
    const model = await writeSmallMlp(dir);
    const common = { model, data: MNIST_SUBSET, limit: 500, valSplit: 0, epochs: 2, optimizer: 'adam' as const, lr: 0.01, l2: 1e-3, clipGradNorm: 1, schedule: 'linear' as const, warmup: 0.25 };
    await train({ ...common, batchSize: 64, out: join(dir, 'big') });
    await train({ ...common, batchSize: 16, accumulate: 4, out: join(dir, 'accumulated') });
    const big = await checkpointTensors(join(dir, 'big'));
    const accumulated = await checkpointTensors(join(dir, 'accumulated'));
    expectSameTensors(accumulated, big, 1e-5, 'mlp');
    // Not trivially equal: the same run without accumulation (16 updates of 16 an epoch) ends elsewhere.
    await train({ ...common, batchSize: 16, out: join(dir, 'small') });
    const small = await checkpointTensors(join(dir, 'small'));
    expect(relativeError(small.get('fc1.weight')!.data, big.get('fc1.weight')!.data)).toBeGreaterThan(1e-3);
  });

  it('BERT (dynamo): 2 micro-batches of 8 = one batch of 16, over 3 momentum updates', async () => {
    const bert = transformerFixture('bert');
    const data = bert.train();
    const model = await loadModel(bert.model('dynamo'));
    const batch = (start: number, count: number): Record<string, Tensor> =>
      Object.fromEntries(['input_ids', 'attention_mask', 'token_type_ids', 'labels'].map((k) => [k, rows(data.get(k)!, start, count)]));

    async function runUpdates(opts: CompileOptions, microBatches: number) {
      const step = compileTrainStep(model, opts);
      const models = stepModels(step);
      const session = await createSession(modelToBytes(models.step), { name: 'step' });
      const update = models.update ? await createSession(modelToBytes(models.update), { name: 'update' }) : undefined;
      const carried = new Map([...models.initial].map(([n, t]) => [n, new Tensor('float32', t.data, t.dims)]));
      const runner = new StepRunner(step, session, update, carried);
      try {
        const size = 16 / microBatches;
        for (let u = 0; u < 3; u++) {
          for (let m = 0; m < microBatches; m++) {
            await runner.run({ feeds: batch(u * 16 + m * size, size), weight: 1 / microBatches, last: m === microBatches - 1, lr: 0.05 });
          }
        }
      } finally {
        await session.release();
        await update?.release();
      }
      return new Map(step.params.map((p) => [p, { data: carried.get(p)!.data as Float32Array }]));
    }

    // Momentum, whose update is linear in the gradient: measured worst 1.1e-7 (classifier.bias). Under Adam the
    // summation order's rounding is amplified where a gradient element is near Adam's epsilon (the word
    // embeddings of rare ids: 1.6e-5 after 3 steps); the MLP test covers Adam.
    const opts: CompileOptions = { loss: 'cross-entropy', optimizer: { kind: 'momentum' } };
    const big = await runUpdates(opts, 1);
    const accumulated = await runUpdates({ ...opts, accumulate: true }, 2);
    expectSameTensors(accumulated, big, 1e-6, 'bert');
    // The updates moved the weights: the comparison is not of two untouched copies.
    const initial = tensorToFloat32(model.graph.requireValue('classifier.weight').initializer!);
    expect(relativeError(big.get('classifier.weight')!.data, initial)).toBeGreaterThan(1e-4);
  });
});
