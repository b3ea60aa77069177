import { Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { exposeDropoutMask, exposeMaxPoolIndices, toTrainingModeBatchNorm } from '../../src/autodiff/forward-outputs.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/dtype.js';
import { newModel } from '../../src/ir/model.js';
import { boolTensor, floatTensor } from '../../src/ir/tensor.js';
import { modelToBytes } from '../../src/model-io.js';
import { createSession } from '../../src/runtime/session.js';
import { floatTensor as ortFloat } from '../../src/runtime/tensors.js';
import { distinctValues, expectClose, makeOpModel, type OpInput } from './helpers.js';

const x: OpInput = { name: 'x', shape: [4, 8], kind: 'param' };

describe('exposeDropoutMask', () => {
  it('replaces a mask-less Dropout by one with a mask, keeping inputs, attributes, output name and readers', async () => {
    // x -> Dropout(seed) -> y -> Relu -> z;  y and z are graph outputs
    const model = newModel({ opset: 17 });
    const g = model.graph;
    const b = new GraphBuilder(g);
    const input = g.addInput('x').setTensorType(DataType.FLOAT, ['N', 3]);
    const r = g.addInitializer(floatTensor('ratio', [0.5], []));
    const t = g.addInitializer(boolTensor('training', [true], []));
    const old = b.node('Dropout', [input, r, t], { seed: 7 }, { name: 'drop' });
    const y = old.output(0);
    y.rename('y');
    const z = b.op('Relu', [y], {}, { output: 'z' });
    g.addOutput(y);
    g.addOutput(z);

    const node = exposeDropoutMask(old);
    expect(node).not.toBe(old);
    expect(g.nodes).not.toContain(old);
    expect(node.inputs).toEqual([input, r, t]);
    expect(node.attrs.int('seed')).toBe(7);
    expect(node.name).toMatch(/^drop/);
    expect(node.output(0).name).toBe('y');
    expect(node.output(1).name).toBe('y_mask');
    expect(g.outputs.map((v) => v.name)).toEqual(['y', 'z']);
    expect(g.outputs[0]).toBe(node.output(0));
    expect(z.producer!.inputs[0]).toBe(node.output(0));
    expect(exposeDropoutMask(node)).toBe(node); // already has a mask: unchanged

    g.toposort();
    const session = await createSession(modelToBytes(model), { name: 'dropout' });
    const out = await session.run({ x: new Tensor('float32', Float32Array.from({ length: 6 }, (_, i) => i + 1), [2, 3]) });
    await session.release();
    expect(out.y.dims).toEqual([2, 3]);
  });

  it('refuses a node that is not a Dropout', () => {
    const m = makeOpModel({ op: 'Relu', inputs: [x] });
    expect(() => exposeDropoutMask(m.model.graph.nodes[0])).toThrow(/is not a Dropout node/);
  });
});

describe('toTrainingModeBatchNorm', () => {
  it('switches an inference BatchNormalization to batch statistics with running-stat outputs', async () => {
    // x -> BatchNormalization(scale, B, mean, var) -> y (graph output)
    const model = newModel({ opset: 15 });
    const g = model.graph;
    const b = new GraphBuilder(g);
    const x = g.addInput('x').setTensorType(DataType.FLOAT, [4, 2]);
    const init = (name: string, data: number[]) => g.addInitializer(floatTensor(name, data, [2]), { exactName: true });
    const bn = b.node('BatchNormalization', [x, init('scale', [1, 1]), init('B', [0, 0]), init('mean', [0, 0]), init('var', [1, 1])], { momentum: 0.9 }, { name: 'bn', outputs: ['y'] });
    g.addOutput(bn.output(0));

    const result = toTrainingModeBatchNorm(bn);
    expect(result.node.name).toBe('bn');
    expect(result.node.attrs.int('training_mode')).toBe(1);
    expect(result.meanInput.name).toBe('mean');
    expect(result.varInput.name).toBe('var');
    expect(toTrainingModeBatchNorm(result.node).node).toBe(result.node);
    // Both running statistics must be fetched (see fetchRunningStats): with only the mean, Y came out wrong.
    g.addOutput(result.runningMean);
    g.addOutput(result.runningVar);

    const data = Float32Array.from([1, 10, 2, 20, 3, 30, 4, 40]);
    const s = await createSession(modelToBytes(model));
    const out = await s.run({ x: ortFloat(data, [4, 2]) });
    await s.release();
    // Batch statistics normalize each column to zero mean: column 0 is [1,2,3,4] -> mean 2.5.
    const y = out.y.data as Float32Array;
    expect(Math.abs(y[0] + y[2] + y[4] + y[6])).toBeLessThan(1e-5);
    expect(y[6]).toBeCloseTo(1.5 / Math.sqrt(1.25 + 1e-5), 4);
    // running_mean = 0.9 * 0 + 0.1 * [2.5, 25]
    expectClose(out[result.runningMean.name].data as Float32Array, [0.25, 2.5], 1e-5, 'running mean');
  });

  it('refuses opset 13 with advice', () => {
    const model = newModel({ opset: 13 });
    const g = model.graph;
    const x = g.addInput('x').setTensorType(DataType.FLOAT, [4, 2]);
    const p = ['s', 'b', 'm', 'v'].map((n) => g.addInitializer(floatTensor(n, [1, 1], [2]), { exactName: true }));
    const bn = new GraphBuilder(g).node('BatchNormalization', [x, ...p], {}, { name: 'bn' });
    expect(() => toTrainingModeBatchNorm(bn)).toThrow(/opset 14 or later.*has 13/);
  });
});

describe('exposeMaxPoolIndices', () => {
  it('adds the Indices output and keeps the inference result and names', async () => {
    // x -> MaxPool -> y (graph output)
    const model = newModel({ opset: 17 });
    const g = model.graph;
    const b = new GraphBuilder(g);
    const x = g.addInput('x').setTensorType(DataType.FLOAT, [1, 1, 4, 4]);
    const pool = b.node('MaxPool', [x], { kernel_shape: [2, 2], strides: [2, 2] }, { name: 'pool', outputs: ['y'] });
    g.addOutput(pool.output(0));
    const data = Float32Array.from(distinctValues(16));
    const run = async () => {
      const s = await createSession(modelToBytes(model));
      const out = await s.run({ x: ortFloat(data, [1, 1, 4, 4]) });
      await s.release();
      return out;
    };
    const before = (await run()).y.data as Float32Array;
    const exposed = exposeMaxPoolIndices(pool);
    expect(exposed).not.toBe(pool);
    expect(exposed.name).toBe('pool');
    expect(exposed.output(0).name).toBe('y');
    expect(exposed.output(1).name).toBe('y_indices');
    expect(g.outputs.map((v) => v.name)).toEqual(['y']);
    expect(exposeMaxPoolIndices(exposed)).toBe(exposed);
    expectClose((await run()).y.data as Float32Array, before, 0, 'y');
  });
});
