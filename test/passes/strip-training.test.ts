import { create } from '@bufbuild/protobuf';
import * as ort from 'onnxruntime-node';
import { ValueInfoProtoSchema } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { boolTensor, DataType, exportModel, float, floatTensor, GraphBuilder, importModel, newModel, tensorType, type Model } from '../../src/ir/index.js';
import { verifyEquivalent } from '../../src/check/equivalence.js';
import { addPenalty, finishPipeline, insertDropout, runPasses, step, stripTraining, stripTrainingPass } from '../../src/passes/index.js';
import { Rng } from '../../src/util/rng.js';
import { histogram, mlp, names, randomWeights, run, setTrainingMode } from './models.js';

/**
 * A training step in regraft's form: mlp() + Dropout after each Relu (switched on) + loss over logits and labels +
 * L2 penalty + a gradient and an updated-parameter output using lr; fc1.weight is a graph input with an initializer
 * default.
 */
function trainingStep(): Model {
  const model = mlp();
  insertDropout(model, { after: ['Relu'], seed: 3 });
  setTrainingMode(model, true);
  const g = model.graph;
  const b = new GraphBuilder(g);
  const labels = g.addInput('labels').setTensorType(DataType.INT64, ['batch']);
  const lr = g.addInput('lr').setTensorType(DataType.FLOAT, []);
  const logits = g.requireValue('logits');
  const labelTerm = b.reduceSum(b.op('Cast', [labels], { to: DataType.FLOAT }), undefined, false);
  const loss = b.op('Add', [b.reduceSum(logits, undefined, false), labelTerm], {}, { output: 'loss' }).setTensorType(DataType.FLOAT, []);
  g.addOutput(loss);
  addPenalty(model, { loss: 'loss', l2: 0.01 });
  const w = g.requireValue('fc1.weight');
  const grad = b.op('Mul', [g.requireValue('loss'), w], {}, { output: 'fc1.weight_grad' });
  const updated = b.op('Sub', [w, b.mul(lr, grad)], {}, { output: 'fc1.weight.updated' });
  g.addOutput(grad);
  g.addOutput(updated);
  finishPipeline(model);
  // Parameters of a compiled step are graph inputs too (with their stored values as defaults).
  const proto = exportModel(model);
  proto.graph!.input.push(create(ValueInfoProtoSchema, { name: 'fc1.weight', type: tensorType(DataType.FLOAT, [8, 4]) }));
  return importModel(proto);
}

/**
 * PyTorch export with training=TrainingMode.TRAINING: input -> Conv -> BatchNormalization-15(training_mode=1; Y,
 * running_mean, running_var) -> Relu -> Dropout-13(Constant ratio, Constant training_mode=true; output, mask) ->
 * Flatten -> Gemm -> logits. With `inference`, the same model as PyTorch writes it in eval mode.
 */
function pytorchConvNet(inference: boolean): Model {
  const model = newModel({ opset: 15, producerName: 'pytorch' });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const rng = new Rng(11);
  const x = g.addInput('input').setTensorType(DataType.FLOAT, ['batch', 2, 4, 4]);
  const conv = b.op('Conv', [x, b.floatInit('conv.weight', randomWeights(rng, 36), [2, 2, 3, 3]), b.floatInit('conv.bias', randomWeights(rng, 2), [2])], { pads: [1, 1, 1, 1] }, { name: '/conv/Conv' });
  const bnParams = [
    b.floatInit('bn.weight', [1.5, 0.5], [2]),
    b.floatInit('bn.bias', [0.1, -0.2], [2]),
    b.floatInit('bn.running_mean', [0.3, -0.1], [2]),
    b.floatInit('bn.running_var', [2.0, 0.5], [2]),
  ];
  const bnAttrs = { epsilon: float(1e-5), momentum: float(0.9) };
  const y = inference
    ? b.op('BatchNormalization', [conv, ...bnParams], bnAttrs, { name: '/bn/BatchNormalization' })
    : b.ops('BatchNormalization', [conv, ...bnParams], { ...bnAttrs, training_mode: 1 }, 3, { name: '/bn/BatchNormalization' })[0];
  let h = b.op('Relu', [y], {}, { name: '/relu/Relu' });
  if (!inference) {
    const ratio = b.op('Constant', [], { value: floatTensor('', [0.5], []) }, { name: '/dropout/Constant' });
    const mode = b.op('Constant', [], { value: boolTensor('', [true], []) }, { name: '/dropout/Constant_1' });
    h = b.ops('Dropout', [h, ratio, mode], {}, 2, { name: '/dropout/Dropout' })[0];
  }
  const flat = b.op('Flatten', [h], { axis: 1 }, { name: '/Flatten' });
  const logits = b.op('Gemm', [flat, b.floatInit('fc.weight', randomWeights(rng, 96), [3, 32]), b.floatInit('fc.bias', randomWeights(rng, 3), [3])], { transB: 1 }, { name: '/fc/Gemm', output: 'logits' });
  g.addOutput(logits.setTensorType(DataType.FLOAT, ['batch', 3]));
  return model;
}

describe('strip-training', () => {
  it("turns regraft's training step back into the inference model", async () => {
    const model = trainingStep();
    expect(names(model.graph.inputs)).toEqual(['input', 'labels', 'lr', 'fc1.weight']);
    const result = stripTraining(model);
    finishPipeline(model);
    expect(result).toMatchObject({
      modified: true,
      removedOutputs: ['loss', 'fc1.weight_grad', 'fc1.weight.updated'],
      removedInputs: ['labels', 'lr'],
      foldedParameters: ['fc1.weight'],
      removedDropouts: 2,
    });
    expect(names(model.graph.inputs)).toEqual(['input']);
    expect(names(model.graph.outputs)).toEqual(['logits']);
    expect(model.graph.value('training_mode')).toBeUndefined();
    expect(model.graph.requireValue('fc1.weight').isInitializer).toBe(true);
    expect(histogram(model)).toEqual(histogram(mlp()));
    expect((await verifyEquivalent(mlp(), model)).ok).toBe(true);
    // verify can strip a copy of a training original itself before comparing.
    const fromTraining = await verifyEquivalent(trainingStep(), model, { inferenceFormOfOriginal: true });
    expect(fromTraining.outputs.map((o) => [o.name, o.allclose])).toEqual([['logits', true]]);
  });

  it('is allowed by the runner to remove training-only inputs and outputs', () => {
    const model = trainingStep();
    runPasses(model, [step(stripTrainingPass, {})]);
    expect(names(model.graph.outputs)).toEqual(['logits']);
  });

  it('turns a PyTorch training-mode export into its inference form', async () => {
    const model = pytorchConvNet(false);
    const result = stripTraining(model);
    finishPipeline(model);
    expect(result).toMatchObject({ modified: true, removedDropouts: 1, batchNormsToInference: 1, removedOutputs: [] });
    const bn = model.graph.nodes.find((n) => n.opType === 'BatchNormalization')!;
    expect(bn.outputs).toHaveLength(1);
    expect(bn.attributes.has('training_mode')).toBe(false);
    expect(bn.name).toBe('/bn/BatchNormalization');
    expect(histogram(model)).toEqual(histogram(pytorchConvNet(true)));
    const report = await verifyEquivalent(pytorchConvNet(true), model, { batch: 3 });
    expect(report.ok).toBe(true);
    expect(report.outputs[0].maxAbsDiff).toBeLessThan(1e-6);
  });

  it('replaces a Dropout mask that is still read by an all-true mask', async () => {
    // x -> Dropout(training) -> (y, mask); out = y * Cast(mask)
    const model = newModel({ opset: 17 });
    const g = model.graph;
    const b = new GraphBuilder(g);
    const x = g.addInput('x').setTensorType(DataType.FLOAT, ['N', 3]);
    const mode = g.addInitializer(boolTensor('training_mode', [true], []));
    const [y, mask] = b.ops('Dropout', [x, b.scalar(0.5), mode], {}, 2);
    g.addOutput(b.op('Mul', [y, b.op('Cast', [mask], { to: DataType.FLOAT })], {}, { output: 'out' }).setTensorType(DataType.FLOAT, ['N', 3]));
    stripTraining(model);
    finishPipeline(model);
    expect(Object.keys(histogram(model))).toEqual(['Cast', 'ConstantOfShape', 'Mul', 'Shape']);
    const data = Float32Array.of(1, -2, Number.NaN, 4, 5, 6);
    const out = (await run(model, { x: new ort.Tensor('float32', data, [2, 3]) }, ['out'])).out;
    expect(out).toEqual(Array.from(data));
  });

  it('keeps the name of a graph output that a Dropout produced from a graph input', () => {
    // x -> Dropout -> y (output)
    const model = newModel({ opset: 13 });
    const b = new GraphBuilder(model.graph);
    const x = model.graph.addInput('x').setTensorType(DataType.FLOAT, [2]);
    model.graph.addOutput(b.op('Dropout', [x], {}, { output: 'y' }));
    stripTraining(model);
    finishPipeline(model);
    expect(names(model.graph.outputs)).toEqual(['y']);
    expect(model.graph.outputs[0].producer!.opType).toBe('Identity');
  });

  it('drops the training outputs of an opset-9 BatchNormalization', () => {
    // x -> BatchNormalization-9 -> (Y, mean, var, saved_mean, saved_var)
    const model = newModel({ opset: 9 });
    const b = new GraphBuilder(model.graph);
    const x = model.graph.addInput('x').setTensorType(DataType.FLOAT, [1, 2]);
    const params = ['s', 'b', 'm', 'v'].map((n) => b.floatInit(n, [1, 1], [2]));
    model.graph.addOutput(b.ops('BatchNormalization', [x, ...params], {}, 5)[0]);
    expect(stripTraining(model)).toMatchObject({ modified: true, batchNormsToInference: 1 });
    expect(model.graph.nodes[0].outputs).toHaveLength(1);
    expect(stripTraining(model).modified).toBe(false);
  });

  it('changes nothing in an inference model', () => {
    const model = mlp();
    expect(stripTraining(model)).toMatchObject({ modified: false, removedOutputs: [], removedInputs: [], removedDropouts: 0 });
    expect(histogram(model)).toEqual(histogram(mlp()));
  });

  it('explains what to do when outputs cannot be chosen', () => {
    expect(() => stripTraining(mlp(), { keepOutputs: ['probs'] })).toThrow("strip-training: keep-outputs names probs, which is not a graph output; graph outputs: logits");
    const lossOnly = newModel({ opset: 17 });
    const x = lossOnly.graph.addInput('x').setTensorType(DataType.FLOAT, []);
    lossOnly.graph.addOutput(new GraphBuilder(lossOnly.graph).op('Identity', [x], {}, { output: 'loss' }));
    expect(() => stripTraining(lossOnly)).toThrow('strip-training: every graph output looks training-only (loss); name the inference outputs with --keep-outputs');
  });
});
