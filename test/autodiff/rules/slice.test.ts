import { Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildBackward } from '../../../src/autodiff/backward.js';
import { gradcheck } from '../../../src/check/gradcheck.js';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { cloneModel } from '../../../src/ir/clone.js';
import { constantInts } from '../../../src/ir/constant.js';
import { DataType } from '../../../src/ir/dtype.js';
import { newModel, type Model } from '../../../src/ir/model.js';
import type { Node } from '../../../src/ir/node.js';
import type { Value } from '../../../src/ir/value.js';
import { checkGradients, computeGradients, expectClose, intInput, makeOpModel, type OpModelSpec, paramX } from '../helpers.js';

describe('Slice', () => {
  it('by hand: step 1 pads dy back with zeros, a negative step scatters in reverse', async () => {
    // y = x[6][1:4]
    const plain = makeOpModel({ op: 'Slice', inputs: [paramX([6]), intInput('starts', [1]), intInput('ends', [4])] });
    const R = plain.weights[0];
    expectClose((await computeGradients(plain)).grads.x.data, [0, R[0], R[1], R[2], 0, 0], 0, 'step 1');
    // y = x[6][5:0:-2] = x[5], x[3], x[1]
    const reversed = makeOpModel({ op: 'Slice', inputs: [paramX([6]), intInput('starts', [5]), intInput('ends', [0]), intInput('axes', [0]), intInput('steps', [-2])] });
    const Q = reversed.weights[0];
    expectClose((await computeGradients(reversed)).grads.x.data, [0, Q[2], 0, Q[1], 0, Q[0]], 0, 'step -2');
  });

  const big = 2 ** 62; // PyTorch's "to the end"
  const cases: [string, OpModelSpec][] = [
    ['two axes, negative start', { op: 'Slice', inputs: [paramX([4, 5]), intInput('starts', [1, -3]), intInput('ends', [3, big]), intInput('axes', [0, 1])] }],
    ['step 2 on a middle axis', { op: 'Slice', inputs: [paramX([2, 5, 3]), intInput('starts', [0]), intInput('ends', [5]), intInput('axes', [1]), intInput('steps', [2])] }],
    ['mixed steps', { op: 'Slice', inputs: [paramX([4, 4]), intInput('starts', [-1, 1]), intInput('ends', [-big, 3]), intInput('axes', [0, -1]), intInput('steps', [-1, 1])] }],
    ['opset 9 (attributes)', { op: 'Slice', opset: 9, attrs: { starts: [1], ends: [3], axes: [1] }, inputs: [paramX([2, 4])] }],
  ];
  it.each(cases)('%s matches central differences', async (_, spec) => {
    await checkGradients(makeOpModel(spec));
  });
});

describe('Slice bounds computed from shapes', () => {
  // X: float [N, T, 4] fed (N, T symbolic unless `shape` fixes them); h = X * W (W [4] the parameter);
  // y = Slice(h, starts, ends, axes = [1]) with bounds built from Shape(h); loss = ReduceSum(y * y).
  type Bound = (b: GraphBuilder, t: Value) => Value;
  function model(start: Bound, end: Bound, shape: (number | string)[] = ['N', 'T', 4]): Model {
    const m = newModel({ opset: 17 });
    const g = m.graph;
    const b = new GraphBuilder(g);
    const x = g.addInput('X').setTensorType(DataType.FLOAT, shape);
    const w = b.floatInit('W', [0.5, -1, 1.5, 2], [4]);
    const h = b.mul(x, w);
    const t = b.op('Gather', [b.op('Shape', [h]), b.ints([1])], { axis: 0 }); // [T]
    const y = b.op('Slice', [h, start(b, t), end(b, t), b.ints([1])]);
    g.addOutput(b.op('ReduceSum', [b.mul(y, y)], { keepdims: 0 }, { output: 'loss' }));
    return m;
  }
  const feeds = (n: number, t: number) => ({ X: new Tensor('float32', Float32Array.from({ length: n * t * 4 }, (_, i) => Math.sin(i + 1)), [n, t, 4]) });
  const constant = (k: number): Bound => (b) => b.ints([k]);
  const lessOne: Bound = (b, t) => b.op('Sub', [t, b.ints([1])]); // T - 1
  const lastThree: Bound = (b, t) => b.op('Sub', [t, b.ints([3])]); // T - 3
  const backwardOf = (m: Model) => buildBackward(m, { loss: m.graph.requireValue('loss'), wrt: [m.graph.requireValue('W')] }).nodes;
  const padsOf = (nodes: Node[]) => nodes.filter((n) => n.opType === 'Pad').map((n) => constantInts(n.inputs[1]));

  it.each([
    ['x[:, :T-1] (pads constant: 0 before, 1 after)', constant(0), lessOne, [[0, 0, 0, 0, 1, 0]]],
    ['x[:, T-3:] (pads before at run time)', lastThree, constant(2 ** 62), [undefined]],
  ] as const)('%s matches central differences at two sequence lengths', async (_, start, end, pads) => {
    const m = model(start, end);
    expect(padsOf(backwardOf(cloneModel(m)))).toEqual(pads);
    for (const [n, t] of [[2, 5], [3, 8]]) {
      const [r] = await gradcheck({ model: m, loss: 'loss', feeds: feeds(n, t), params: ['W'], samplesPerParam: 4 });
      expect(r.maxRelError, `N=${n}, T=${t}`).toBeLessThan(1e-2);
    }
  });

  it('folds the bounds to constants when the shapes are static', async () => {
    const m = model(lastThree, lessOne, [2, 6, 4]);
    const nodes = backwardOf(cloneModel(m));
    // x[:, 3:5] of 6: 3 before, 1 after; no Shape node in the backward pass
    expect(padsOf(nodes)).toEqual([[0, 3, 0, 0, 1, 0]]);
    expect(nodes.filter((n) => n.opType === 'Shape')).toEqual([]);
    const [r] = await gradcheck({ model: m, loss: 'loss', feeds: feeds(2, 6), params: ['W'], samplesPerParam: 4 });
    expect(r.maxRelError).toBeLessThan(1e-2);
  });

  it('takes bounds known only at run time (a graph input), negative ones counted from the end', async () => {
    const m = model((b) => b.graph.addInput('start').setTensorType(DataType.INT64, [1]), constant(2 ** 62));
    for (const start of [1, -2, -100]) {
      const [r] = await gradcheck({ model: m, loss: 'loss', feeds: { ...feeds(2, 5), start: new Tensor('int64', BigInt64Array.from([BigInt(start)]), [1]) }, params: ['W'], samplesPerParam: 4 });
      expect(r.maxRelError, `start ${start}`).toBeLessThan(1e-2);
    }
  });

  it('refuses a step other than 1 over a region known only at run time, saying what to do', () => {
    const m = newModel({ opset: 17 });
    const b = new GraphBuilder(m.graph);
    const x = m.graph.addInput('X').setTensorType(DataType.FLOAT, ['N', 'T']);
    const y = b.op('Slice', [b.mul(x, b.floatInit('W', [2], [1])), b.ints([0]), b.ints([2 ** 62]), b.ints([1]), b.ints([2])], {}, { name: 'every_other' });
    m.graph.addOutput(b.op('ReduceSum', [y], { keepdims: 0 }, { output: 'loss' }));
    expect(() => backwardOf(m)).toThrow(/Slice node 'every_other': step 2 along axis 1 of .* known only at run time; .*--dim/);
  });

  it('refuses a region known only at run time below opset 11 (Pad then takes its pads as an attribute)', () => {
    const m = newModel({ opset: 9 });
    const b = new GraphBuilder(m.graph);
    const x = m.graph.addInput('X').setTensorType(DataType.FLOAT, ['N', 'T']);
    // The last two steps of a dynamic axis: where they start depends on T.
    const y = b.op('Slice', [b.mul(x, b.floatInit('W', [2], [1]))], { starts: [-2], ends: [2 ** 62], axes: [1] }, { name: 'last_two' });
    m.graph.addOutput(b.op('ReduceSum', [y], { keepdims: 0 }, { output: 'loss' }));
    expect(() => backwardOf(m)).toThrow(/Slice node 'last_two': the sliced region of .* is known only at run time, which needs opset 11/);
  });
});
