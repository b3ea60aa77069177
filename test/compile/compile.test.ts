// compileTrainStep: the step's interface contract (DESIGN.md), validity, onnxruntime runs, penalties, freezing.
import { Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { DataType } from '../../src/ir/dtype.js';
import { tensorToFloat32 } from '../../src/ir/tensor.js';
import { validateModel } from '../../src/ir/validate.js';
import { modelToBytes } from '../../src/model-io.js';
import { buildLeNet } from '../../src/models/builders.js';
import { createSession } from '../../src/runtime/session.js';
import { compileTrainStep, type CompileOptions, type TrainStep } from '../../src/compile/compile.js';
import type { Model } from '../../src/ir/model.js';
import { randomFeeds, smallMlp } from './models.js';
import { openFeedableStep, scalarOf } from './step-helpers.js';

const MLP_PARAMS = ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias'];

/** Runs `steps` SGD steps on one batch, feeding updated parameters back; returns the loss of each step. */
async function sgdLosses(model: Model, batch: number, classes: number, steps: number, lr: number): Promise<number[]> {
  const step = compileTrainStep(model, { loss: 'cross-entropy', optimizer: 'sgd' });
  const feeds = randomFeeds(step.model, { batch, classes, seed: 4 });
  const fs = await openFeedableStep(step);
  try {
    const carried: Record<string, Tensor> = { ...fs.initial };
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) {
      const out = await fs.session.run({ ...feeds, ...carried, lr: new Tensor('float32', new Float32Array([lr]), []) });
      losses.push(scalarOf(out[step.loss]));
      for (const c of step.carried) carried[c.input] = out[c.output];
    }
    return losses;
  } finally {
    await fs.release();
  }
}

/** Gradients of a step compiled with optimizer 'none', on fixed feeds, by parameter name. */
async function gradientsOf(model: Model, opts: Omit<CompileOptions, 'optimizer' | 'emitGradients'>): Promise<{ step: TrainStep; grads: Record<string, Float32Array>; loss: number }> {
  const step = compileTrainStep(model, { ...opts, optimizer: 'none', emitGradients: true });
  const fs = await openFeedableStep(step);
  try {
    const out = await fs.session.run({ ...fs.initial, ...randomFeeds(step.model, { batch: 4, classes: 5, seed: 8 }) });
    const grads = Object.fromEntries(step.params.map((p) => [p, out[step.gradients[p]].data as Float32Array]));
    return { step, grads, loss: scalarOf(out[step.loss]) };
  } finally {
    await fs.release();
  }
}

function weightsOf(model: Model, name: string): Float32Array {
  return tensorToFloat32(model.graph.requireValue(name).initializer!);
}

describe('compileTrainStep contract', () => {
  it('inputs: model inputs, labels, lr, then every parameter and state, each kept as an initializer too', () => {
    const source = smallMlp();
    const step = compileTrainStep(source, { loss: 'cross-entropy', optimizer: 'momentum', emitGradients: true, l2: 0.01 });
    const g = step.model.graph;
    const state = MLP_PARAMS.map((p) => `${p}.momentum_buffer`);
    expect(g.inputs.map((v) => v.name).sort()).toEqual(['input', 'labels', 'lr', ...MLP_PARAMS, ...state].sort());
    expect(g.inputs.slice(0, 3).map((v) => v.name)).toEqual(['input', 'labels', 'lr']);
    expect(step.dataInputs).toEqual(['input']);
    expect(g.requireValue('input').shape).toEqual(['N', 20]);
    expect(g.requireValue('labels').elemType).toBe(DataType.INT64);
    expect(g.requireValue('labels').shape).toEqual(['N']);
    expect(g.requireValue('lr').elemType).toBe(DataType.FLOAT);
    expect(g.requireValue('lr').shape).toEqual([]);
    for (const name of [...MLP_PARAMS, ...state]) {
      const v = g.requireValue(name);
      expect(v.initializer, `${name} keeps its stored value`).toBeDefined();
      expect(v.elemType).toBe(DataType.FLOAT);
    }
    // The stored parameters are the source model's values; the source itself is untouched.
    expect(Array.from(weightsOf(step.model, 'fc1.weight'))).toEqual(Array.from(weightsOf(source, 'fc1.weight')));
    expect(source.graph.inputs.map((v) => v.name)).toEqual(['input']);
    expect(source.graph.outputs.map((v) => v.name)).toEqual(['logits']);
  });

  it('outputs: loss, <param>_grad, then updated parameters and state (no inference outputs)', () => {
    const step = compileTrainStep(smallMlp(), { loss: 'cross-entropy', optimizer: 'momentum', emitGradients: true, l2: 0.01 });
    const outputs = step.model.graph.outputs.map((v) => v.name);
    expect(outputs[0]).toBe('loss');
    expect(step.model.graph.requireValue('loss').shape).toEqual([]);
    expect(outputs.slice(1, 5)).toEqual(MLP_PARAMS.map((p) => `${p}_grad`));
    expect(step.gradients).toEqual(Object.fromEntries(MLP_PARAMS.map((p) => [p, `${p}_grad`])));
    const carriedOut = step.carried.map((c) => c.output);
    expect(outputs.slice(5).sort()).toEqual(carriedOut.sort());
    expect(step.carried.map((c) => c.input).sort()).toEqual([...MLP_PARAMS, ...MLP_PARAMS.map((p) => `${p}.momentum_buffer`)].sort());
    for (const c of step.carried) expect(c.output).toBe(`${c.input}_updated`);
    expect(outputs).not.toContain('logits');
    for (const p of MLP_PARAMS) expect(step.model.graph.requireValue(`${p}_grad`).shape).toEqual(step.model.graph.requireValue(p).shape);
  });

  it('without emitGradients there are no gradient outputs; regression losses read float labels shaped like the output', () => {
    const step = compileTrainStep(smallMlp({ dropout: false }), { loss: 'mse', optimizer: 'sgd' });
    const outputs = step.model.graph.outputs.map((v) => v.name);
    expect(outputs).toEqual(['loss', ...MLP_PARAMS.map((p) => `${p}_updated`)]);
    expect(step.gradients).toEqual({});
    expect(step.model.graph.requireValue('labels').elemType).toBe(DataType.FLOAT);
    expect(step.model.graph.requireValue('labels').shape).toEqual(['N', 5]);
  });

  it('validates, runs standalone on the stored values, and gives the same loss when they are fed', async () => {
    const step = compileTrainStep(smallMlp({ dropout: false }), { loss: 'cross-entropy', optimizer: 'adam', l2: 0.01 });
    expect(validateModel(step.model)).toEqual([]);
    const feeds = randomFeeds(step.model, { batch: 4, classes: 5, seed: 6 });
    const lr = new Tensor('float32', new Float32Array([0.01]), []);
    const session = await createSession(modelToBytes(step.model), { name: 'standalone step' });
    const standalone = await session.run({ ...feeds, lr });
    await session.release();
    const fs = await openFeedableStep(step);
    const fed = await fs.session.run({ ...fs.initial, ...feeds, lr });
    await fs.release();
    expect(scalarOf(standalone.loss)).toBeGreaterThan(0);
    expect(scalarOf(fed.loss)).toBe(scalarOf(standalone.loss));
    expect(Array.from(fed['fc1.weight_updated'].data as Float32Array)).toEqual(Array.from(standalone['fc1.weight_updated'].data as Float32Array));
  });

  it('refuses a model that already has a value named lr', () => {
    const model = smallMlp();
    model.graph.addInput('lr').setTensorType(DataType.FLOAT, []);
    expect(() => compileTrainStep(model, { loss: 'cross-entropy' })).toThrow(/already has a value named 'lr'/);
  });
});

describe('compiled steps train', () => {
  it('MLP with Dropout: a few SGD steps lower the loss on a fixed batch', async () => {
    const step = compileTrainStep(smallMlp(), { loss: 'cross-entropy' });
    expect(validateModel(step.model)).toEqual([]);
    // Dropout in training mode: the step reads its mask for the backward pass.
    const dropout = step.model.graph.nodes.find((n) => n.opType === 'Dropout')!;
    expect(dropout.outputs[1]?.uses.length).toBeGreaterThan(0);
    const losses = await sgdLosses(smallMlp(), 8, 5, 12, 0.2);
    expect(losses[losses.length - 1]).toBeLessThan(0.8 * losses[0]);
  });

  it('MLP without Dropout: the loss falls at every step', async () => {
    const losses = await sgdLosses(smallMlp({ dropout: false }), 8, 5, 6, 0.2);
    for (let i = 1; i < losses.length; i++) expect(losses[i]).toBeLessThan(losses[i - 1]);
  });

  it('LeNet-5 (28x28): validates, loads, and SGD lowers the loss on a fixed batch', async () => {
    const lenet = buildLeNet({ classes: 10, seed: 1 });
    expect(validateModel(compileTrainStep(lenet, { loss: 'cross-entropy' }).model)).toEqual([]);
    const losses = await sgdLosses(lenet, 4, 10, 5, 0.1);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
    for (let i = 1; i < losses.length; i++) expect(losses[i]).toBeLessThan(losses[i - 1]);
  });
});

describe('penalties', () => {
  const LAM = 0.3;

  it('--l2 LAM adds exactly LAM * w to each weight gradient and nothing to biases', async () => {
    const model = smallMlp({ dropout: false });
    const plain = await gradientsOf(model, { loss: 'cross-entropy' });
    const l2 = await gradientsOf(model, { loss: 'cross-entropy', l2: LAM });
    expect(l2.step.penalized).toEqual(['fc1.weight', 'fc2.weight']);
    let penalty = 0;
    for (const p of MLP_PARAMS) {
      const w = weightsOf(model, p);
      const diff = l2.grads[p].map((g, i) => g - plain.grads[p][i]);
      const expected = p.endsWith('weight') ? w.map((x) => LAM * x) : w.map(() => 0);
      for (let i = 0; i < w.length; i++) expect(Math.abs(diff[i] - expected[i]), `${p}[${i}]`).toBeLessThan(1e-6 + 1e-5 * Math.abs(expected[i]));
      if (p.endsWith('weight')) penalty += (LAM / 2) * w.reduce((s, x) => s + x * x, 0);
    }
    // The loss output includes the penalty.
    expect(l2.loss - plain.loss).toBeCloseTo(penalty, 5);
  });

  it('--l1 LAM adds exactly LAM * sign(w) to each weight gradient and nothing to biases', async () => {
    const model = smallMlp({ dropout: false });
    const plain = await gradientsOf(model, { loss: 'cross-entropy' });
    const l1 = await gradientsOf(model, { loss: 'cross-entropy', l1: LAM });
    for (const p of MLP_PARAMS) {
      const w = weightsOf(model, p);
      const expected = p.endsWith('weight') ? w.map((x) => LAM * Math.sign(x)) : w.map(() => 0);
      for (let i = 0; i < w.length; i++) {
        expect(Math.abs(l1.grads[p][i] - plain.grads[p][i] - expected[i]), `${p}[${i}]`).toBeLessThan(2e-6);
      }
    }
  });

  it("penaltyParams 'all' covers biases too", async () => {
    const model = smallMlp({ dropout: false });
    const plain = await gradientsOf(model, { loss: 'cross-entropy' });
    const all = await gradientsOf(model, { loss: 'cross-entropy', l2: LAM, penaltyParams: 'all' });
    const bias = weightsOf(model, 'fc2.bias');
    bias.forEach((b, i) => expect(all.grads['fc2.bias'][i] - plain.grads['fc2.bias'][i]).toBeCloseTo(LAM * b, 5));
  });
});

describe('freezing and pruned gradients', () => {
  /** Backward nodes (named grad/...) reading a value. */
  const backwardReaders = (step: TrainStep, name: string) =>
    step.model.graph.requireValue(name).uses.filter((u) => u.node.name.startsWith('grad/')).map((u) => u.node.describe());

  it('no gradient of the input data is computed', () => {
    const step = compileTrainStep(smallMlp(), { loss: 'cross-entropy', emitGradients: true });
    // d/d(input) of the first Gemm would be dY * fc1.weight: no backward node multiplies by the first weight.
    expect(backwardReaders(step, 'fc1.weight')).toEqual([]);
    expect(step.model.graph.value('input_grad')).toBeUndefined();
    // The weight gradient does read the data (dW = dY^T x): the probe above is not vacuous.
    expect(backwardReaders(step, 'input').length).toBeGreaterThan(0);
  });

  it('--freeze GLOB excludes parameters and prunes the backward pass before them', () => {
    const step = compileTrainStep(smallMlp(), { loss: 'cross-entropy', emitGradients: true, freeze: ['fc1.*'] });
    expect(step.params).toEqual(['fc2.weight', 'fc2.bias']);
    expect(Object.keys(step.gradients)).toEqual(['fc2.weight', 'fc2.bias']);
    expect(step.carried.map((c) => c.input)).toEqual(['fc2.weight', 'fc2.bias']);
    const g = step.model.graph;
    // Frozen parameters stay stored initializers, but are neither fed nor updated.
    expect(g.requireValue('fc1.weight').initializer).toBeDefined();
    expect(g.inputs.map((v) => v.name)).not.toContain('fc1.weight');
    expect(g.outputs.map((v) => v.name).filter((n) => n.startsWith('fc1'))).toEqual([]);
    // Nothing flows back past fc2: no backward node reads the data, the first layer, or fc2's weight (that is dX of fc2).
    expect(backwardReaders(step, 'input')).toEqual([]);
    expect(backwardReaders(step, 'fc1.weight')).toEqual([]);
    expect(backwardReaders(step, 'fc2.weight')).toEqual([]);
  });

  it('freezing every parameter leaves nothing to train', () => {
    const step = compileTrainStep(smallMlp(), { loss: 'cross-entropy', freeze: ['*'] });
    expect(step.params).toEqual([]);
    expect(step.carried).toEqual([]);
  });
});
