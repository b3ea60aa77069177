// Tied weights: GPT-2's embedding and LM head, exported as two initializers (the head the embedding's transpose),
// train as the one tensor PyTorch has. References (test/fixtures/finetune/gpt2-tied-mse.npz): PyTorch's gradient of
// nn.MSELoss()(logits, target) for the shared tensor, the two uses' gradients with the head untied, and the shared
// tensor after one SGD step. Detection must not merge tensors that are merely equal by construction.
import { join } from 'node:path';
import { Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { compileTrainStep } from '../../src/compile/compile.js';
import { findTiedWeights, MIN_TIED_ELEMENTS, tiedCopy } from '../../src/compile/tied-weights.js';
import { GraphBuilder, newModel, tensorToFloat32, type Model } from '../../src/ir/index.js';
import { classifyInitializers } from '../../src/ir/parameters.js';
import { loadModel } from '../../src/model-io.js';
import { EXPORTERS, FINETUNE, FIXTURE_NAMES, floats, readNpz, relativeError, transformerFixture, transpose2d } from '../fixtures-npz.js';
import { openFeedableStep, scalarOf } from './step-helpers.js';

const gpt2 = transformerFixture('gpt2');
const reference = readNpz(join(FINETUNE, 'gpt2-tied-mse.npz'));
const target = reference.get('target')!;

/** The gpt2 export's tied pair: [embedding (Gather's table, [100, 32]), head ([32, 100])], as meta.json names them. */
const pairOf = (exporter: 'torchscript' | 'dynamo') => gpt2.meta.exports[exporter].tied[0];

async function runStep(model: Model, opts: Parameters<typeof compileTrainStep>[1], lr?: number) {
  const step = compileTrainStep(model, opts);
  const fs = await openFeedableStep(step);
  try {
    const { input_ids, attention_mask } = gpt2.batch();
    const feeds: Record<string, Tensor> = { ...fs.initial, input_ids, attention_mask, [step.labels]: new Tensor('float32', floats(target), target.shape) };
    if (lr !== undefined) feeds[step.lr!] = new Tensor('float32', Float32Array.of(lr), []);
    return { step, out: await fs.session.run(feeds) };
  } finally {
    await fs.release();
  }
}

describe('tied weights are found', () => {
  it.each(FIXTURE_NAMES.flatMap((n) => EXPORTERS.map((e) => [n, e] as const)))('%s (%s): the pairs meta.json lists, and no other', async (name, exporter) => {
    const fixture = transformerFixture(name);
    const model = await loadModel(fixture.model(exporter));
    const ties = findTiedWeights(classifyInitializers(model.graph).parameters);
    expect(ties.map((t) => [t.parameter, t.copy, t.relation])).toEqual(fixture.meta.exports[exporter].tied);
  });

  it('only exact copies of at least 16 elements holding two or more distinct values', () => {
    // Initializers of a model that is never run: only their values matter.
    const model = newModel({ opset: 17 });
    const b = new GraphBuilder(model.graph);
    const random = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 100 + i * 1.7));
    const a = random(6 * 8, 1);
    const add = (name: string, data: Float32Array, dims: number[]) => b.floatInit(name, data, dims);
    add('a', a, [6, 8]);
    add('a_copy', a.slice(), [6, 8]);
    add('a_t', transpose2d(a, 6, 8), [8, 6]);
    add('a_flat', a.slice(), [48]); // same bits, other dims: not a tie (a reshape is not detected)
    const nudged = a.slice();
    nudged[5] = Math.fround(nudged[5] * (1 + 2 ** -22)); // one element a few ulps off
    add('a_nudged', nudged, [6, 8]);
    add('ones1', new Float32Array(32).fill(1), [32]); // two fresh LayerNorm scales: equal, yet separate
    add('ones2', new Float32Array(32).fill(1), [32]);
    const small = random(MIN_TIED_ELEMENTS - 1, 2);
    add('small1', small, [MIN_TIED_ELEMENTS - 1]);
    add('small2', small.slice(), [MIN_TIED_ELEMENTS - 1]);
    const ties = findTiedWeights(model.graph.initializers);
    expect(ties).toEqual([
      { parameter: 'a', copy: 'a_copy', relation: 'equal' },
      { parameter: 'a', copy: 'a_t', relation: 'transpose' },
    ]);
  });

  it('a transposed copy is rebuilt bit for bit from its parameter', () => {
    const data = Float32Array.from({ length: 12 }, (_, i) => i * 0.1 - 0.3);
    const copy = tiedCopy('transpose', { data, dims: [3, 4] });
    expect(copy.dims).toEqual([4, 3]);
    expect(Buffer.from(copy.data.buffer).equals(Buffer.from(transpose2d(data, 3, 4).buffer))).toBe(true);
  });
});

// Both exporters leave the embedding and its transpose; the TorchScript export compiles since shape analysis follows
// its Shape -> Gather -> Concat -> Reshape chains.
describe.each(EXPORTERS)('GPT-2 (%s) trains its embedding and head as one tensor, as PyTorch', (exporter) => {
  const [embedding, head] = pairOf(exporter);

  it('one gradient, the sum of both uses, equal to PyTorch\'s for the shared tensor', async () => {
    const { step, out } = await runStep(await loadModel(gpt2.model(exporter)), { loss: 'mse', optimizer: 'none', emitGradients: true });
    expect(step.tied).toEqual([{ parameter: embedding, copy: head, relation: 'transpose' }]);
    expect(step.params).toContain(embedding);
    expect(step.params).not.toContain(head);
    expect(step.model.graph.value(head)?.initializer).toBeUndefined();
    expect(Math.abs(scalarOf(out[step.loss]) - Number(reference.get('loss')!.data[0]))).toBeLessThan(1e-6);
    const grad = out[step.gradients[embedding]].data as Float32Array;
    expect(relativeError(grad, floats(reference.get('grad_tied')))).toBeLessThan(1e-5);
    // The sum of the untied references, the head's transposed back as PyTorch stores it ([V, D]).
    const sum = floats(reference.get('grad_embedding')).map((g, i) => g + floats(reference.get('grad_head'))[i]);
    expect(relativeError(grad, sum)).toBeLessThan(1e-5);
  });

  it('--untie: two tensors, each with its own use\'s gradient', async () => {
    const { step, out } = await runStep(await loadModel(gpt2.model(exporter)), { loss: 'mse', optimizer: 'none', emitGradients: true, untie: true });
    expect(step.tied).toEqual([]);
    expect(step.params).toEqual(expect.arrayContaining([embedding, head]));
    expect(relativeError(out[step.gradients[embedding]].data as Float32Array, floats(reference.get('grad_embedding')))).toBeLessThan(1e-5);
    // The head initializer is [D, V]: its gradient is the transpose of PyTorch's lm_head.weight gradient.
    expect(relativeError(out[step.gradients[head]].data as Float32Array, transpose2d(floats(reference.get('grad_head')), 100, 32))).toBeLessThan(1e-5);
  });

  it("one SGD step gives PyTorch's tied update, and the copy is that update transposed, bit for bit", async () => {
    const lr = Number(reference.get('sgd_lr')!.data[0]);
    const { step, out } = await runStep(await loadModel(gpt2.model(exporter)), { loss: 'mse', optimizer: 'sgd' }, lr);
    // One update and no second state: the head is not carried.
    expect(step.carried.map((c) => c.input)).not.toContain(head);
    const updated = out[step.carried.find((c) => c.input === embedding)!.output].data as Float32Array;
    const expected = floats(reference.get('wte_after_sgd'));
    expect(relativeError(updated, expected)).toBeLessThan(1e-6);
    const copy = tiedCopy('transpose', { data: updated, dims: [100, 32] });
    expect(Buffer.from(copy.data.buffer).equals(Buffer.from(transpose2d(updated, 100, 32).buffer))).toBe(true);
    expect(relativeError(copy.data, transpose2d(expected, 100, 32))).toBeLessThan(1e-6);
  });

  it('tying changes no value before training, and the model compiled keeps both initializers', async () => {
    const model = await loadModel(gpt2.model(exporter));
    const untied = await runStep(await loadModel(gpt2.model(exporter)), { loss: 'mse', optimizer: 'none', untie: true });
    const tied = await runStep(model, { loss: 'mse', optimizer: 'none' });
    expect(scalarOf(tied.out[tied.step.loss])).toBe(scalarOf(untied.out[untied.step.loss]));
    expect(tensorToFloat32(model.graph.requireValue(head).initializer!).length).toBe(3200);
  });
});
