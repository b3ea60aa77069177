import { describe, expect, it } from 'vitest';
import { assertVerified, verifyEquivalent } from '../../src/check/equivalence.js';
import { GraphBuilder } from '../../src/ir/index.js';
import { finishPipeline, insertDropout } from '../../src/passes/index.js';
import { clone, cnn, floatTensor } from '../passes/models.js';

describe('verifyEquivalent', () => {
  it('notices a real change and names the output that differs', async () => {
    // conv -> Relu -> pool -> fc1 -> Relu -> fc2, with Dropout (inference mode) after each Relu and one bias changed
    const original = cnn();
    const model = clone(original);
    insertDropout(model, { after: ['Relu'], ratio: 0.5, seed: 1 });
    finishPipeline(model);
    const bias = model.graph.requireValue('fc2.bias');
    bias.initializer = floatTensor('fc2.bias', [0, 0, 0.5], [3]);
    const changed = await verifyEquivalent(original, model, { batch: 3 });
    expect(changed.ok).toBe(false);
    expect(() => assertVerified(changed)).toThrow(/^verify: output 'logits' differs between the original and the rewritten model: max \|difference\|/);
  });

  it("words onnxruntime's own reason when a model does not load (the runtime's wrapping is not repeated)", async () => {
    // The rewritten model gains an output computed by an op onnxruntime does not know.
    const original = cnn();
    const broken = clone(original);
    broken.graph.addOutput(new GraphBuilder(broken.graph).op('NoSuchOp', [broken.graph.inputs[0]]));
    await expect(verifyEquivalent(original, broken)).rejects.toThrow(/^verify: onnxruntime cannot load the rewritten model: (?!onnxruntime cannot load)/);
  });
});
