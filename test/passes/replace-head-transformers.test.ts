// `regraft head` on Hugging Face sequence classifiers as both exporters write them (the classifier after BERT's
// pooler, after DistilBERT's pre_classifier + ReLU): a fresh 3-class head, everything before it byte-identical,
// the model runs in onnxruntime with 3 logits, and it trains.
import { toBinary } from '@bufbuild/protobuf';
import { NodeProtoSchema, TensorProtoSchema } from 'onnx-buf';
import { Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { compileTrainStep } from '../../src/compile/compile.js';
import { exportModel } from '../../src/ir/index.js';
import { loadModel, modelFromBytes, modelToBytes } from '../../src/model-io.js';
import { replaceHeadPass } from '../../src/passes/replace-head.js';
import { runPass } from '../../src/passes/runner.js';
import { createSession } from '../../src/runtime/session.js';
import { EXPORTERS, rows, transformerFixture } from '../fixtures-npz.js';
import { lossesOnOneBatch } from '../compile/step-helpers.js';

const CASES = ['bert', 'distilbert'].flatMap((n) => EXPORTERS.map((e) => [n, e] as const));

describe('replacing a transformer classifier head', () => {
  it.each(CASES)('%s (%s): 3 fresh classes; every other tensor and node byte-identical', async (name, exporter) => {
    const fixture = transformerFixture(name);
    const original = exportModel(await loadModel(fixture.model(exporter)));
    const model = await loadModel(fixture.model(exporter));
    const result = runPass(model, replaceHeadPass, { classes: 3, seed: 2 });
    expect(result).toMatchObject({ weight: 'classifier.weight', bias: 'classifier.bias', before: 2, after: 3, features: 32 });
    // Through bytes, as `regraft head` writes the file.
    const headed = exportModel(modelFromBytes(modelToBytes(model), 'headed.onnx'));
    const changed = new Set([result.weight, result.bias]);
    const tensors = (m: typeof original) => new Map(m.graph!.initializer.map((t) => [t.name, Buffer.from(toBinary(TensorProtoSchema, t))]));
    const [before, after] = [tensors(original), tensors(headed)];
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [n, bytes] of before) if (!changed.has(n)) expect(after.get(n)!.equals(bytes), n).toBe(true);
    expect(headed.graph!.initializer.find((t) => t.name === 'classifier.weight')!.dims.map(Number)).toEqual([3, 32]);
    const nodes = (m: typeof original) => m.graph!.node.map((n) => Buffer.from(toBinary(NodeProtoSchema, n)).toString('base64'));
    expect(nodes(headed)).toEqual(nodes(original));

    const session = await createSession(modelToBytes(model), { name: 'headed' });
    try {
      const batch = fixture.batch();
      const out = await session.run(Object.fromEntries(session.inputNames.map((i) => [i, batch[i]])));
      expect(out.logits.dims).toEqual([3, 3]);
    } finally {
      await session.release();
    }
  });

  // The dynamo exports compile today (the torchscript ones once shape analysis follows their Reshape chains).
  it.each(['bert', 'distilbert'])('%s (dynamo) with a new 3-class head trains: Adam steps lower the loss on 3-class labels', async (name) => {
    const fixture = transformerFixture(name);
    const model = await loadModel(fixture.model('dynamo'));
    runPass(model, replaceHeadPass, { classes: 3, seed: 2 });
    const step = compileTrainStep(model, { loss: 'cross-entropy', optimizer: 'adam' });
    const data = fixture.train();
    const batch: Record<string, Tensor> = Object.fromEntries(fixture.meta.exports.dynamo.inputs.map((i) => [i.name, rows(data.get(i.name)!, 0, 24)]));
    // Class 2 for every third row: a label the old 2-class head could not give.
    const labels = rows(data.get('labels')!, 0, 24).data as BigInt64Array;
    batch[step.labels] = new Tensor('int64', labels.map((y, i) => (i % 3 === 2 ? 2n : y)), [24]);
    const losses = await lossesOnOneBatch(step, batch, 3e-3, 8);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses.at(-1)!).toBeLessThan(0.7 * losses[0]);
  });
});
