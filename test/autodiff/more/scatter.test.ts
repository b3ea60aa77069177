import { describe, expect, it } from 'vitest';
import { checkGradients, computeGradients, expectClose, makeOpModel, type OpInput } from '../helpers.js';
import { buildBackwardOf } from './more-helpers.js';

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
