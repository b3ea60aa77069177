// Rules fall back to run-time shapes (Shape, Size nodes) where a dim is the symbolic batch N; these models are
// checked against central differences with a batch of 3 fed.
import { Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { gradcheck } from '../../../src/check/gradcheck.js';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { DataType } from '../../../src/ir/dtype.js';
import { newModel, type Model } from '../../../src/ir/model.js';
import type { Value } from '../../../src/ir/value.js';
import { modelFromBytes, modelToBytes } from '../../../src/model-io.js';
import { buildBackward } from '../../../src/autodiff/backward.js';
import { Rng } from '../../../src/util/rng.js';

type Build = (b: GraphBuilder, h: Value) => Value;

/** X: [N, 3, 4] fed; h = X * W (W [3, 4] the parameter); y = build(h); loss = ReduceSum(y * y). */
function model(build: Build, opset = 17): { model: Model; feeds: Record<string, Tensor> } {
  const rng = new Rng(5);
  const m = newModel({ opset });
  const g = m.graph;
  const b = new GraphBuilder(g);
  const X = g.addInput('X').setTensorType(DataType.FLOAT, ['N', 3, 4]);
  const W = b.floatInit('W', Float32Array.from({ length: 12 }, () => rng.uniform(-1, 1)), [3, 4]);
  const y = build(b, b.mul(X, W));
  g.addOutput(b.op('ReduceSum', [b.mul(y, y)], { keepdims: 0 }, { output: 'loss' }));
  const feeds = { X: new Tensor('float32', Float32Array.from({ length: 36 }, () => rng.uniform(-1, 1)), [3, 3, 4]) };
  return { model: m, feeds };
}

const CASES: [string, Build][] = [
  ['Reshape [0, -1] then ReduceMean over the batch', (b, h) => b.op('ReduceMean', [b.op('Reshape', [h, b.ints([0, -1])])], { axes: [0], keepdims: 0 })],
  ['ReduceMean keeping N (scale from Size)', (b, h) => b.op('ReduceMean', [h], { axes: [1, 2], keepdims: 0 })],
  ['Transpose + Unsqueeze + Squeeze', (b, h) => b.op('Squeeze', [b.op('Unsqueeze', [b.op('Transpose', [h], { perm: [2, 0, 1] }), b.ints([1])]), b.ints([1])])],
  ['Concat along N (run-time split sizes)', (b, h) => b.op('Concat', [h, b.op('Relu', [h])], { axis: 0 })],
  ['Split with an unused output (run-time zeros)', (b, h) => b.ops('Split', [h, b.ints([1, 3])], { axis: 2 }, 2)[1]],
  ['Gather on axis 1 of [N, 3, 4]', (b, h) => b.op('Gather', [h, b.ints([2, 0, 2])], { axis: 1 })],
  ['Slice a static axis', (b, h) => b.op('Slice', [h, b.ints([1]), b.ints([4]), b.ints([2])])],
  ['Softmax over the last axis', (b, h) => b.op('Softmax', [h], { axis: -1 })],
];

describe('gradients with a symbolic batch dim', () => {
  it.each(CASES)('%s matches central differences', async (_, build) => {
    const { model: m, feeds } = model(build);
    const [r] = await gradcheck({ model: m, loss: 'loss', feeds, params: ['W'], samplesPerParam: 12 });
    expect(r.maxRelError, JSON.stringify(r)).toBeLessThan(1e-2);
  });

  it('uses Shape only where a dim is symbolic', () => {
    const { model: m } = model((b, h) => b.op('Reshape', [h, b.ints([0, -1])]));
    const copy = modelFromBytes(modelToBytes(m));
    const { nodes } = buildBackward(copy, { loss: copy.graph.requireValue('loss'), wrt: [copy.graph.requireValue('W')] });
    // Reshape's gradient needs Shape(h) and the loss's ReduceSum spreads dy over y [N, 12]; unbroadcasting
    // dW over N uses a constant axis.
    const shapeOf = nodes.filter((n) => n.opType === 'Shape').map((n) => n.inputs[0]!.shape);
    expect(shapeOf).toEqual([['N', 12], ['N', 3, 4]]);
  });

  it('chains of reshapes collapse into one Reshape in the backward pass', async () => {
    // y = Flatten(Unsqueeze(Reshape(h, [0, -1]))): three reshaping ops, one backward Reshape straight to h's shape
    const build: Build = (b, h) => b.op('Flatten', [b.op('Unsqueeze', [b.op('Reshape', [h, b.ints([0, -1])]), b.ints([1])])]);
    const { model: m, feeds } = model(build);
    const copy = modelFromBytes(modelToBytes(m));
    const { nodes } = buildBackward(copy, { loss: copy.graph.requireValue('loss'), wrt: [copy.graph.requireValue('W')] });
    const reshapes = nodes.filter((n) => n.opType === 'Reshape');
    expect(reshapes.filter((n) => n.inputs[0]!.producer?.opType === 'Reshape' && nodes.includes(n.inputs[0]!.producer))).toEqual([]);
    const [r] = await gradcheck({ model: m, loss: 'loss', feeds, params: ['W'], samplesPerParam: 8 });
    expect(r.maxRelError).toBeLessThan(1e-2);
  });
});
