// Dropout where Hugging Face puts it, on the exported transformers (several inputs, attention masks): on the
// attention probabilities (after Softmax), on dense outputs (after MatMul, or by node glob after the dense layers'
// bias Add, as BERT's hidden dropout sits). The step trains with it; stripped, the model gives the un-dropped
// model's outputs exactly, in onnxruntime, on the fixtures' own batch.
import { Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { compileTrainStep } from '../../src/compile/compile.js';
import type { Model } from '../../src/ir/model.js';
import { loadModel, modelToBytes } from '../../src/model-io.js';
import { insertDropout, type InsertDropoutOptions } from '../../src/passes/insert-dropout.js';
import { stripTraining } from '../../src/passes/strip-training.js';
import { createSession } from '../../src/runtime/session.js';
import { floats, transformerFixture, type Exporter } from '../fixtures-npz.js';
import { openFeedableStep, scalarOf } from '../compile/step-helpers.js';

/** The model's logits on the fixture's batch. */
async function logits(model: Model, batch: Record<string, Tensor>): Promise<Float32Array> {
  const session = await createSession(modelToBytes(model), { name: 'model' });
  try {
    const feeds = Object.fromEntries(session.inputNames.map((n) => [n, batch[n]]));
    return (await session.run(feeds))[model.graph.outputs[0].name].data as Float32Array;
  } finally {
    await session.release();
  }
}

const CASES: [string, Exporter, InsertDropoutOptions, number][] = [
  ['bert', 'torchscript', { after: ['Softmax'] }, 2],
  ['bert', 'torchscript', { afterNode: ['*/output/dense/Add'] }, 4],
  ['bert', 'dynamo', { after: ['Softmax', 'MatMul'] }, 2 + 16],
  ['distilbert', 'dynamo', { after: ['Softmax'] }, 2],
  ['gpt2', 'dynamo', { after: ['Softmax'] }, 2],
  ['vit', 'dynamo', { after: ['Softmax'] }, 2],
  ['transformer-encoder', 'dynamo', { after: ['Softmax'] }, 2],
];

describe('Dropout on exported transformers', () => {
  it.each(CASES)('%s (%s) %o: inserted, and stripped again to the same outputs', async (name, exporter, where, count) => {
    const fixture = transformerFixture(name);
    const original = await loadModel(fixture.model(exporter));
    const dropped = await loadModel(fixture.model(exporter));
    const { inserted } = insertDropout(dropped, { ...where, ratio: 0.1, seed: 1 });
    expect(inserted).toHaveLength(count);
    const stripped = stripTraining(dropped).model;
    expect(stripped.graph.nodes.some((n) => n.opType === 'Dropout')).toBe(false);
    const batch = fixture.batch();
    expect(await logits(stripped, batch)).toEqual(await logits(original, batch));
  });

  // A compiled step needs the model's gradient: the dynamo exports compile today.
  it.each([['bert', { after: ['Softmax', 'MatMul'] }], ['gpt2', { after: ['Softmax'] }]] as const)(
    '%s (dynamo) trains with Dropout %o: a new mask every run at 0.3; for BERT ratio 0 gives PyTorch\'s gradients',
    async (name, where) => {
      const fixture = transformerFixture(name);
      const batch = fixture.batch();
      const run = async (ratio: number) => {
        const model = await loadModel(fixture.model('dynamo'));
        insertDropout(model, { ...where, ratio, seed: 3 });
        // GPT-2's logits are [N, T, V]: the token-level losses come with --class-axis; mse on zeros exercises the graph.
        const loss = name === 'gpt2' ? 'mse' : 'cross-entropy';
        const step = compileTrainStep(model, { loss, optimizer: 'none', emitGradients: true });
        const fs = await openFeedableStep(step);
        try {
          const labels = name === 'gpt2' ? new Tensor('float32', new Float32Array(3 * 10 * 100), [3, 10, 100]) : batch.labels;
          const feeds = { ...fs.initial, ...Object.fromEntries(fixture.meta.exports.dynamo.inputs.map((i) => [i.name, batch[i.name]])), [step.labels]: labels };
          const outs = [await fs.session.run(feeds), await fs.session.run(feeds)];
          return { step, outs };
        } finally {
          await fs.release();
        }
      };
      const none = await run(0);
      const dropped = await run(0.3);
      const [a, b] = dropped.outs.map((o) => scalarOf(o[dropped.step.loss]));
      expect(Number.isFinite(a) && Number.isFinite(b)).toBe(true);
      expect(a).not.toBe(b); // a new mask each run
      expect(a).not.toBe(scalarOf(none.outs[0][none.step.loss]));
      if (name === 'bert') {
        // Judged against the largest gradient of all (attention's key bias has a true gradient of zero).
        const reference = fixture.reference('dynamo');
        const largest = Math.max(...none.step.params.map((p) => floats(reference.get(`grad/${p}`)).reduce((m, g) => Math.max(m, Math.abs(g)), 0)));
        for (const p of none.step.params) {
          const got = none.outs[0][none.step.gradients[p]].data as Float32Array;
          const want = floats(reference.get(`grad/${p}`), p);
          expect(got.reduce((m, g, i) => Math.max(m, Math.abs(g - want[i])), 0) / largest, p).toBeLessThan(1e-5);
        }
      }
    },
  );
});
