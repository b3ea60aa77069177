import { describe, expect, it } from 'vitest';
import { numel } from '../../../src/ir/tensor.js';
import { buildBackwardOf, checkGradients, computeGradients, expectClose, intInput, makeOpModel, type OpInput, paramX } from '../helpers.js';

describe('Gather', () => {
  it('by hand: repeated and negative indices add up in their row (ScatterND, opset 17)', async () => {
    // y = x[3, 2][[2, 0, -1]]  (row 2 is read twice)
    const m = makeOpModel({ op: 'Gather', inputs: [paramX([3, 2]), intInput('idx', [2, 0, -1])] });
    const { grads, model } = await computeGradients(m);
    const R = m.weights[0];
    expectClose(grads.x.data, [R[2], R[3], 0, 0, R[0] + R[4], R[1] + R[5]], 1e-6);
    expect(model.graph.nodes.some((n) => n.opType === 'ScatterND')).toBe(true);
  });

  it('by hand: the opset 13 form (one-hot MatMul) gives the same', async () => {
    const m = makeOpModel({ op: 'Gather', opset: 13, inputs: [paramX([3, 2]), intInput('idx', [2, 0, -1])] });
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
    const m = makeOpModel({ op: 'Gather', opset, attrs: { axis }, inputs: [paramX(xs), { name: 'idx', shape: is, kind: 'int', values: iv }] });
    await checkGradients(m);
  });
});

describe('GatherElements gradient', () => {
  it('adds dY at the gathered positions, repeated indices included (hand computed)', async () => {
    // X [2, 2], I = [[1, 1], [0, 1]] along axis 0: Y[i][j] = X[I[i][j]][j]
    // dX[0][0] = R[1][0]; dX[1][0] = R[0][0]; dX[1][1] = R[0][1] + R[1][1]; dX[0][1] = 0
    const m = makeOpModel({
      op: 'GatherElements',
      inputs: [
        { name: 'X', kind: 'param', shape: [2, 2], values: [1, 2, 3, 4] },
        { name: 'I', kind: 'int', shape: [2, 2], values: [1, 1, 0, 1] },
      ],
      attrs: { axis: 0 },
    });
    const R = m.weights[0];
    expectClose((await computeGradients(m)).grads.X.data, [R[2], 0, R[0], R[1] + R[3]], 1e-6, 'dX');
  });

  it.each([
    { x: [3, 4], i: [5, 4], axis: 0 },
    { x: [2, 5, 3], i: [2, 7, 3], axis: 1 },
    { x: [2, 3, 4], i: [2, 3, 6], axis: -1 },
    { x: [4, 3], i: [2, 2], axis: 1 },
  ])('passes a central-difference check: X $x I $i axis $axis', async ({ x, i, axis }) => {
    const size = x[axis < 0 ? axis + x.length : axis];
    // Indices with repeats and negative values (counted from the end).
    const values = Array.from({ length: numel(i) }, (_, k) => ((k * 7 + 3) % (2 * size)) - size);
    const m = makeOpModel({
      op: 'GatherElements',
      inputs: [
        { name: 'X', kind: 'param', shape: x },
        { name: 'I', kind: 'int', shape: i, values },
      ],
      attrs: { axis },
    });
    await checkGradients(m, { label: JSON.stringify({ x, i, axis }) });
  });

  it('refuses opsets below 16 (no ScatterElements reduction), naming the node', () => {
    const m = makeOpModel({
      op: 'GatherElements',
      inputs: [
        { name: 'X', kind: 'param', shape: [2, 2] },
        { name: 'I', kind: 'int', shape: [2, 2], values: [1, 1, 0, 1] },
      ],
      opset: 13,
    });
    expect(() => buildBackwardOf(m)).toThrow(/GatherElements node 'gatherelements'.*opset 16/);
  });
});

/** data and updates as params, indices as int64. */
function scatterModel(op: string, data: number[], indices: { shape: number[]; values: number[] }, updates: number[], attrs: Record<string, number | string | undefined> = {}, opset = 16) {
  const inputs: OpInput[] = [
    { name: 'data', kind: 'param', shape: data },
    { name: 'indices', kind: 'int', ...indices },
    { name: 'updates', kind: 'param', shape: updates },
  ];
  return makeOpModel({ op, inputs, attrs, opset, seed: 11 });
}

describe('ScatterElements gradient', () => {
  it('routes dY to the updates it wrote and zeros it for the data it overwrote (hand computed)', async () => {
    // data [2, 3], axis 1: y[0, 2] = u[0], y[1, 0] = u[1]
    const m = scatterModel('ScatterElements', [2, 3], { shape: [2, 1], values: [2, 0] }, [2, 1], { axis: 1 });
    const R = m.weights[0];
    const { grads } = await computeGradients(m);
    expectClose(grads.data.data, [R[0], R[1], 0, 0, R[4], R[5]], 1e-6, 'ddata');
    expectClose(grads.updates.data, [R[2], R[3]], 1e-6, 'dupdates');
  });

  it.each([
    { data: [3, 4], indices: { shape: [3, 2], values: [0, 3, 1, 2, 3, 0] }, updates: [3, 2], axis: 1, opset: 13 },
    { data: [4, 3], indices: { shape: [2, 3], values: [0, 1, 2, 3, -1, 1] }, updates: [2, 3], axis: 0, opset: 16 },
    { data: [2, 3, 4], indices: { shape: [2, 2, 4], values: [0, 1, 2, 0, 2, 0, 1, 1, 1, 2, 0, 2, 0, 1, 2, 0] }, updates: [2, 2, 4], axis: 1, opset: 18 },
  ])('passes a central-difference check: data $data axis $axis opset $opset', async ({ data, indices, updates, axis, opset }) => {
    await checkGradients(scatterModel('ScatterElements', data, indices, updates, { axis }, opset), { label: JSON.stringify({ data, axis }) });
  });
});

describe('ScatterND gradient', () => {
  it('routes dY to the updates it wrote and zeros it for the data it overwrote (hand computed)', async () => {
    // data [3, 2]: rows 2 and 0 replaced by the update rows
    const m = scatterModel('ScatterND', [3, 2], { shape: [2, 1], values: [2, 0] }, [2, 2]);
    const R = m.weights[0];
    const { grads } = await computeGradients(m);
    expectClose(grads.data.data, [0, 0, R[2], R[3], 0, 0], 1e-6, 'ddata');
    expectClose(grads.updates.data, [R[4], R[5], R[0], R[1]], 1e-6, 'dupdates');
  });

  it.each([
    { data: [4, 3], indices: { shape: [2, 1], values: [1, 3] }, updates: [2, 3], opset: 13 },
    { data: [2, 3, 4], indices: { shape: [2, 2], values: [0, 1, 1, 2] }, updates: [2, 4], opset: 16 },
    { data: [2, 3, 4], indices: { shape: [3, 3], values: [0, 0, 0, 1, 2, 3, 1, 0, -1] }, updates: [3], opset: 18 },
  ])('passes a central-difference check: data $data indices $indices.shape opset $opset', async ({ data, indices, updates, opset }) => {
    await checkGradients(scatterModel('ScatterND', data, indices, updates, {}, opset), { label: JSON.stringify({ data, indices }) });
  });
});

describe('Scatter reductions', () => {
  it.each([
    { op: 'ScatterElements', reduction: 'add' },
    { op: 'ScatterND', reduction: 'mul' },
  ])('$op with reduction $reduction is refused in one line naming the node', ({ op, reduction }) => {
    const m = scatterModel(op, [3, 2], { shape: [2, 1], values: [2, 0] }, op === 'ScatterND' ? [2, 2] : [2, 1], { reduction });
    expect(() => buildBackwardOf(m)).toThrow(new RegExp(`^${op} node '${op.toLowerCase()}': ${op} with reduction '${reduction}' has no gradient rule`));
  });
});
