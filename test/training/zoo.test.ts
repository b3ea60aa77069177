// The ONNX model zoo's architectures (ONNX backend "light" models, opset 9: AlexNet, DenseNet-121, Inception v1/v2,
// ResNet-50, ShuffleNet, SqueezeNet, VGG-19, ZFNet-512) compile into a training step once upgraded to opset 17;
// at opset 9 each is refused with the way out. SqueezeNet's step then trains in onnxruntime.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { materializeConstantOfShape } from '../../src/bench/compile.js';
import type { Model } from '../../src/ir/index.js';
import { modelFromBytes } from '../../src/model-io.js';
import { upgradeOpset } from '../../src/passes/upgrade-opset.js';
import { createSession } from '../../src/runtime/index.js';
import { compileTrainStep } from '../../src/training/compile.js';
import { feedableStep } from '../../src/training/feedable.js';
import { modelToBytes } from '../../src/model-io.js';
import { Rng } from '../../src/util/rng.js';

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

  it('SqueezeNet: three momentum steps on one batch lower the loss in onnxruntime', async () => {
    const model = load('light_squeezenet.onnx');
    upgradeOpset(model, 17);
    materializeConstantOfShape(model, 1);
    const step = compileTrainStep(model, { loss: 'mse', optimizer: 'momentum' });
    const feedable = feedableStep(step.model, step.carried.map((c) => c.input));
    const session = await createSession(modelToBytes(feedable.model), { name: 'squeezenet step' });
    const rng = new Rng(2);
    const input = step.dataInputs[0];
    const feeds: Record<string, Tensor> = Object.fromEntries([...feedable.initial].map(([n, t]) => [n, new Tensor('float32', t.data, t.dims)]));
    feeds[input] = new Tensor('float32', Float32Array.from({ length: 3 * 224 * 224 }, () => rng.normal()), [1, 3, 224, 224]);
    // Softmax probabilities pushed towards one class.
    feeds[step.labels] = new Tensor('float32', Float32Array.from({ length: 1000 }, (_, i) => (i === 7 ? 1 : 0)), [1, 1000, 1, 1]);
    feeds[step.lr!] = new Tensor('float32', new Float32Array([1]), []);
    const losses: number[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const out = await session.run(feeds);
        losses.push((out[step.loss].data as Float32Array)[0]);
        for (const c of step.carried) feeds[c.input] = out[c.output];
      }
    } finally {
      await session.release();
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[2]).toBeLessThan(losses[0]);
  }, 60_000);
});
