// The ONNX model zoo's architectures (ONNX backend "light" models, opset 9: AlexNet, DenseNet-121, Inception v1/v2,
// ResNet-50, ShuffleNet, SqueezeNet, VGG-19, ZFNet-512) compile into a training step once upgraded to opset 17;
// at opset 9 each is refused with the way out. SqueezeNet's step then trains in onnxruntime.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { materializeConstantOfShape } from '../../bench/compile.js';
import { DataType, GraphBuilder, type Model } from '../../src/ir/index.js';
import { modelFromBytes } from '../../src/model-io.js';
import { upgradeOpset } from '../../src/passes/upgrade-opset.js';
import { compileTrainStep } from '../../src/compile/compile.js';
import { Rng } from '../../src/util/rng.js';
import { lossesOnOneBatch } from './step-helpers.js';

const LIGHT = join(import.meta.dirname, '..', 'fixtures', 'onnx-backend', 'light');
const files = readdirSync(LIGHT).filter((f) => f.endsWith('.onnx'));
const load = (file: string): Model => modelFromBytes(readFileSync(join(LIGHT, file)), file);

describe('model zoo architectures compile into a training step after an opset upgrade', () => {
  it('covers the nine architectures', () => expect(files).toHaveLength(9));

  it.each([
    ['light_squeezenet.onnx', /Dropout below opset 12 has no training mode in onnxruntime/],
    ['light_shufflenet.onnx', /training-mode BatchNormalization needs opset 14 or later \(the model has 9\)/],
  ])('at opset 9, %s is refused with the way out', (file, why) => {
    const old = load(file);
    materializeConstantOfShape(old, 0, 'zeros');
    expect(() => compileTrainStep(old, { loss: 'mse', optimizer: 'sgd' })).toThrow(new RegExp(`${why.source}.*; upgrade it with: regraft convert MODEL -o NEW.onnx --opset 17`));
  });

  // Zero weights: only the graph matters here, and VGG-19's 143M weights then cost an allocation, not a draw.
  it.each(files)('%s compiles after upgradeOpset(17)', (file) => {
    const model = load(file);
    upgradeOpset(model, 17);
    materializeConstantOfShape(model, 0, 'zeros');
    const step = compileTrainStep(model, { loss: 'cross-entropy', optimizer: 'sgd' });
    expect(step.params.length).toBeGreaterThan(10);
    expect(step.untrainable).toEqual([]);
  }, 60_000);

  it('SqueezeNet, trained on its logits (the Softmax cut off): three momentum steps on one batch lower the cross-entropy', async () => {
    const model = load('light_squeezenet.onnx');
    upgradeOpset(model, 17);
    materializeConstantOfShape(model, 1);
    // Classifiers are trained on logits: read the Softmax's input, flattened to [N, 1000].
    const g = model.graph;
    const probabilities = g.outputs[0];
    const softmax = probabilities.producer!;
    g.removeOutput(probabilities);
    const logits = new GraphBuilder(g).op('Flatten', [softmax.input(0)!], { axis: 1 }, { output: 'logits' });
    logits.setTensorType(DataType.FLOAT, [1, 1000]);
    g.addOutput(logits);
    g.cleanup();

    const step = compileTrainStep(model, { loss: 'cross-entropy', optimizer: 'momentum' });
    const rng = new Rng(2);
    const image = new Tensor('float32', Float32Array.from({ length: 3 * 224 * 224 }, () => rng.normal()), [1, 3, 224, 224]);
    // SqueezeNet has no normalization: with random 1/sqrt(fan-in) weights the signal shrinks through 18 ReLU layers
    // and the logits start near zero (loss ln 1000), so the gradient is small and a large step shows it.
    const losses = await lossesOnOneBatch(step, { [step.dataInputs[0]]: image, [step.labels]: new Tensor('int64', BigInt64Array.from([7n]), [1]) }, 10, 3);
    expect(losses.every(Number.isFinite)).toBe(true);
    // Far more than float noise (measured 6.908 -> 5.909): the loss of the one sample drops by a clear margin.
    expect(losses[2]).toBeLessThan(losses[0] - 0.5);
  }, 60_000);
});
