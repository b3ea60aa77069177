import { describe, expect, it } from 'vitest';
import { checkGradients, computeGradients, expectClose, makeOpModel, type OpInput, type OpModelSpec } from '../helpers.js';

const x = (shape: number[]): OpInput => ({ name: 'x', shape, kind: 'param' });
const ints = (name: string, values: number[]): OpInput => ({ name, shape: [values.length], kind: 'int', values });

describe('pure reshapes: dx = reshape(dy)', () => {
  it('Transpose by hand: dx[i, j] = dy[j, i]', async () => {
    const m = makeOpModel({ op: 'Transpose', inputs: [x([2, 3])] });
    const { grads } = await computeGradients(m);
    const R = m.weights[0]; // [3, 2]
    expectClose(grads.x.data, [0, 1, 2, 3, 4, 5].map((k) => R[(k % 3) * 2 + Math.floor(k / 3)]), 0);
    expect(grads.x.dims).toEqual([2, 3]);
  });

  it('Flatten by hand: dx is dy, reshaped', async () => {
    const m = makeOpModel({ op: 'Flatten', attrs: { axis: 2 }, inputs: [x([2, 3, 2])] });
    const { grads } = await computeGradients(m);
    expect(grads.x.dims).toEqual([2, 3, 2]);
    expectClose(grads.x.data, m.weights[0], 0);
  });

  const cases: [string, OpModelSpec][] = [
    ['Reshape [2,3,4] -> [4,-1]', { op: 'Reshape', inputs: [x([2, 3, 4]), ints('shape', [4, -1])] }],
    ['Reshape with 0 (copy dim)', { op: 'Reshape', inputs: [x([2, 3, 4]), ints('shape', [0, 12])] }],
    ['Flatten axis 0', { op: 'Flatten', attrs: { axis: 0 }, inputs: [x([2, 3])] }],
    ['Flatten axis -1', { op: 'Flatten', attrs: { axis: -1 }, inputs: [x([2, 3, 2])] }],
    ['Transpose perm', { op: 'Transpose', attrs: { perm: [1, 2, 0] }, inputs: [x([2, 3, 4])] }],
    ['Transpose default (reverse)', { op: 'Transpose', inputs: [x([2, 3, 4])] }],
    ['Squeeze opset 13 (axes input)', { op: 'Squeeze', inputs: [x([2, 1, 3, 1]), ints('axes', [1, -1])] }],
    ['Squeeze opset 11 (axes attribute)', { op: 'Squeeze', opset: 11, attrs: { axes: [1] }, inputs: [x([2, 1, 3])] }],
    ['Squeeze with no axes', { op: 'Squeeze', inputs: [x([1, 3, 1])] }],
    ['Unsqueeze opset 13', { op: 'Unsqueeze', inputs: [x([2, 3]), ints('axes', [0, -1])] }],
    ['Unsqueeze opset 11', { op: 'Unsqueeze', opset: 11, attrs: { axes: [1] }, inputs: [x([2, 3])] }],
    ['Expand broadcast', { op: 'Expand', inputs: [x([3, 1]), ints('shape', [2, 3, 4])] }],
    ['Expand to a smaller-rank shape', { op: 'Expand', inputs: [x([2, 1, 3]), ints('shape', [4, 1])] }],
  ];
  it.each(cases)('%s matches central differences', async (_, spec) => {
    await checkGradients(makeOpModel(spec));
  });

  it('Expand by hand: dx sums dy over the broadcast axes', async () => {
    const m = makeOpModel({ op: 'Expand', inputs: [x([2, 1]), ints('shape', [2, 3])] });
    const { grads } = await computeGradients(m);
    const R = m.weights[0];
    expectClose(grads.x.data, [R[0] + R[1] + R[2], R[3] + R[4] + R[5]], 1e-6);
  });
});

describe('Concat and Split', () => {
  it('Concat by hand: each input gets its slice of dy', async () => {
    const m = makeOpModel({ op: 'Concat', attrs: { axis: 1 }, inputs: [{ name: 'a', shape: [2, 1], kind: 'param' }, { name: 'b', shape: [2, 2], kind: 'param' }] });
    const { grads } = await computeGradients(m);
    const R = m.weights[0]; // [2, 3]
    expectClose(grads.a.data, [R[0], R[3]], 0, 'a');
    expectClose(grads.b.data, [R[1], R[2], R[4], R[5]], 0, 'b');
  });

  it('Split by hand: an output that misses the loss contributes zeros', async () => {
    // y0, y1 = Split(x[4], [1, 3]); only y1 enters the loss
    const m = makeOpModel({ op: 'Split', outputs: 2, lossOutputs: [1], inputs: [x([4]), ints('split', [1, 3])] });
    const { grads } = await computeGradients(m);
    const R = m.weights[1];
    expectClose(grads.x.data, [0, R[0], R[1], R[2]], 0);
  });

  const cases: [string, OpModelSpec][] = [
    ['Concat axis 0, opset 13', { op: 'Concat', attrs: { axis: 0 }, inputs: [{ name: 'a', shape: [1, 3], kind: 'param' }, { name: 'b', shape: [2, 3], kind: 'param' }] }],
    ['Concat axis -1, three inputs, opset 11', { op: 'Concat', opset: 11, attrs: { axis: -1 }, inputs: [{ name: 'a', shape: [2, 1], kind: 'param' }, { name: 'b', shape: [2, 2], kind: 'param' }, { name: 'c', shape: [2, 3], kind: 'param' }] }],
    ['Concat with a non-param input', { op: 'Concat', attrs: { axis: 0 }, inputs: [{ name: 'a', shape: [2], kind: 'param' }, { name: 'k', shape: [3], kind: 'const' }] }],
    ['Split equal parts, opset 13', { op: 'Split', attrs: { axis: 1 }, outputs: 2, lossOutputs: [0, 1], inputs: [x([2, 4])] }],
    ['Split sizes attribute, opset 11', { op: 'Split', opset: 11, attrs: { axis: 0, split: [1, 2] }, outputs: 2, lossOutputs: [0, 1], inputs: [x([3, 2])] }],
    ['Split, one output unused', { op: 'Split', attrs: { axis: -1 }, outputs: 3, lossOutputs: [0, 2], inputs: [x([2, 3])] }],
  ];
  it.each(cases)('%s matches central differences', async (_, spec) => {
    await checkGradients(makeOpModel(spec));
  });
});

describe('Slice', () => {
  it('by hand: step 1 pads dy back with zeros, a negative step scatters in reverse', async () => {
    // y = x[6][1:4]
    const plain = makeOpModel({ op: 'Slice', inputs: [x([6]), ints('starts', [1]), ints('ends', [4])] });
    const R = plain.weights[0];
    expectClose((await computeGradients(plain)).grads.x.data, [0, R[0], R[1], R[2], 0, 0], 0, 'step 1');
    // y = x[6][5:0:-2] = x[5], x[3], x[1]
    const reversed = makeOpModel({ op: 'Slice', inputs: [x([6]), ints('starts', [5]), ints('ends', [0]), ints('axes', [0]), ints('steps', [-2])] });
    const Q = reversed.weights[0];
    expectClose((await computeGradients(reversed)).grads.x.data, [0, Q[2], 0, Q[1], 0, Q[0]], 0, 'step -2');
  });

  const big = 2 ** 62; // PyTorch's "to the end"
  const cases: [string, OpModelSpec][] = [
    ['two axes, negative start', { op: 'Slice', inputs: [x([4, 5]), ints('starts', [1, -3]), ints('ends', [3, big]), ints('axes', [0, 1])] }],
    ['step 2 on a middle axis', { op: 'Slice', inputs: [x([2, 5, 3]), ints('starts', [0]), ints('ends', [5]), ints('axes', [1]), ints('steps', [2])] }],
    ['mixed steps', { op: 'Slice', inputs: [x([4, 4]), ints('starts', [-1, 1]), ints('ends', [-big, 3]), ints('axes', [0, -1]), ints('steps', [-1, 1])] }],
    ['opset 9 (attributes)', { op: 'Slice', opset: 9, attrs: { starts: [1], ends: [3], axes: [1] }, inputs: [x([2, 4])] }],
  ];
  it.each(cases)('%s matches central differences', async (_, spec) => {
    await checkGradients(makeOpModel(spec));
  });
});

describe('Gather', () => {
  it('by hand: repeated and negative indices add up in their row (ScatterND, opset 17)', async () => {
    // y = x[3, 2][[2, 0, -1]]  (row 2 is read twice)
    const m = makeOpModel({ op: 'Gather', inputs: [x([3, 2]), ints('idx', [2, 0, -1])] });
    const { grads, model } = await computeGradients(m);
    const R = m.weights[0];
    expectClose(grads.x.data, [R[2], R[3], 0, 0, R[0] + R[4], R[1] + R[5]], 1e-6);
    expect(model.graph.nodes.some((n) => n.opType === 'ScatterND')).toBe(true);
  });

  it('by hand: the opset 13 form (one-hot MatMul) gives the same', async () => {
    const m = makeOpModel({ op: 'Gather', opset: 13, inputs: [x([3, 2]), ints('idx', [2, 0, -1])] });
    const { grads, model } = await computeGradients(m);
    const R = m.weights[0];
    expectClose(grads.x.data, [R[2], R[3], 0, 0, R[0] + R[4], R[1] + R[5]], 1e-6);
    expect(model.graph.nodes.some((n) => n.opType === 'OneHot')).toBe(true);
  });

  const table: [number, number[], number, number[], number[]][] = [
    // opset, x shape, axis, idx shape, idx values
    [17, [5, 3], 0, [2, 2], [0, 4, 4, -2]],
    [17, [2, 4, 3], 1, [3], [3, 0, 3]],
    [17, [2, 3, 4], -1, [], [1]],
    [17, [3, 4], 1, [2, 2], [0, 1, 2, -1]],
    [13, [2, 4, 3], 1, [2, 1], [1, -1]],
    [11, [4, 2], 0, [3], [0, 0, 3]],
  ];
  it.each(table)('opset %i x %j axis %i idx %j %j matches central differences', async (opset, xs, axis, is, iv) => {
    const m = makeOpModel({ op: 'Gather', opset, attrs: { axis }, inputs: [x(xs), { name: 'idx', shape: is, kind: 'int', values: iv }] });
    await checkGradients(m);
  });
});

describe('ReduceSum and ReduceMean', () => {
  it('by hand: ReduceMean over axis 1 without keepdims spreads dy / 3', async () => {
    const m = makeOpModel({ op: 'ReduceMean', opset: 13, attrs: { axes: [1], keepdims: 0 }, inputs: [x([2, 3])] });
    const { grads } = await computeGradients(m);
    const R = m.weights[0];
    expectClose(grads.x.data, [R[0], R[0], R[0], R[1], R[1], R[1]].map((v) => v / 3), 1e-6);
  });

  const cases: [string, OpModelSpec][] = [
    ['ReduceSum opset 13 axes input, keepdims', { op: 'ReduceSum', inputs: [x([2, 3, 4]), ints('axes', [0, 2])] }],
    ['ReduceSum opset 13 no keepdims, negative axis', { op: 'ReduceSum', attrs: { keepdims: 0 }, inputs: [x([2, 3, 4]), ints('axes', [-1, 0])] }],
    ['ReduceSum opset 11 attribute', { op: 'ReduceSum', opset: 11, attrs: { axes: [1], keepdims: 0 }, inputs: [x([2, 3])] }],
    ['ReduceSum all axes, no keepdims', { op: 'ReduceSum', attrs: { keepdims: 0 }, inputs: [x([2, 3])] }],
    ['ReduceSum noop_with_empty_axes', { op: 'ReduceSum', attrs: { noop_with_empty_axes: 1 }, inputs: [x([2, 3])] }],
    ['ReduceMean opset 17 attribute, keepdims', { op: 'ReduceMean', attrs: { axes: [0] }, inputs: [x([3, 2])] }],
    ['ReduceMean opset 18 axes input, no keepdims', { op: 'ReduceMean', opset: 18, attrs: { keepdims: 0 }, inputs: [x([2, 3, 2]), ints('axes', [1])] }],
    ['ReduceMean opset 18 all axes', { op: 'ReduceMean', opset: 18, attrs: { keepdims: 0 }, inputs: [x([2, 3])] }],
  ];
  it.each(cases)('%s matches central differences', async (_, spec) => {
    await checkGradients(makeOpModel(spec));
  });
});
