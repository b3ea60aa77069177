import { describe, expect, it } from 'vitest';
import { DataType } from '../../../src/ir/dtype.js';
import { checkGradients, computeGradients, expectClose, intInput, makeOpModel, type OpModelSpec, paramX, testSlopesOnRandomInputs } from '../helpers.js';

describe('Identity gradient', () => {
  testSlopesOnRandomInputs([{ op: 'Identity', slope: () => 1 }]);
});

describe('pure reshapes: dx = reshape(dy)', () => {
  it('Transpose by hand: dx[i, j] = dy[j, i]', async () => {
    const m = makeOpModel({ op: 'Transpose', inputs: [paramX([2, 3])] });
    const { grads } = await computeGradients(m);
    const R = m.weights[0]; // [3, 2]
    expectClose(grads.x.data, [0, 1, 2, 3, 4, 5].map((k) => R[(k % 3) * 2 + Math.floor(k / 3)]), 0);
    expect(grads.x.dims).toEqual([2, 3]);
  });

  it('Flatten by hand: dx is dy, reshaped', async () => {
    const m = makeOpModel({ op: 'Flatten', attrs: { axis: 2 }, inputs: [paramX([2, 3, 2])] });
    const { grads } = await computeGradients(m);
    expect(grads.x.dims).toEqual([2, 3, 2]);
    expectClose(grads.x.data, m.weights[0], 0);
  });

  const cases: [string, OpModelSpec][] = [
    ['Reshape [2,3,4] -> [4,-1]', { op: 'Reshape', inputs: [paramX([2, 3, 4]), intInput('shape', [4, -1])] }],
    ['Reshape with 0 (copy dim)', { op: 'Reshape', inputs: [paramX([2, 3, 4]), intInput('shape', [0, 12])] }],
    ['Flatten axis 0', { op: 'Flatten', attrs: { axis: 0 }, inputs: [paramX([2, 3])] }],
    ['Flatten axis -1', { op: 'Flatten', attrs: { axis: -1 }, inputs: [paramX([2, 3, 2])] }],
    ['Transpose perm', { op: 'Transpose', attrs: { perm: [1, 2, 0] }, inputs: [paramX([2, 3, 4])] }],
    ['Transpose default (reverse)', { op: 'Transpose', inputs: [paramX([2, 3, 4])] }],
    ['Squeeze opset 13 (axes input)', { op: 'Squeeze', inputs: [paramX([2, 1, 3, 1]), intInput('axes', [1, -1])] }],
    ['Squeeze opset 11 (axes attribute)', { op: 'Squeeze', opset: 11, attrs: { axes: [1] }, inputs: [paramX([2, 1, 3])] }],
    ['Squeeze with no axes', { op: 'Squeeze', inputs: [paramX([1, 3, 1])] }],
    ['Unsqueeze opset 13', { op: 'Unsqueeze', inputs: [paramX([2, 3]), intInput('axes', [0, -1])] }],
    ['Unsqueeze opset 11', { op: 'Unsqueeze', opset: 11, attrs: { axes: [1] }, inputs: [paramX([2, 3])] }],
    ['Expand broadcast', { op: 'Expand', inputs: [paramX([3, 1]), intInput('shape', [2, 3, 4])] }],
    ['Expand to a smaller-rank shape', { op: 'Expand', inputs: [paramX([2, 1, 3]), intInput('shape', [4, 1])] }],
  ];
  it.each(cases)('%s matches central differences', async (_, spec) => {
    await checkGradients(makeOpModel(spec));
  });

  it('Expand by hand: dx sums dy over the broadcast axes', async () => {
    const m = makeOpModel({ op: 'Expand', inputs: [paramX([2, 1]), intInput('shape', [2, 3])] });
    const { grads } = await computeGradients(m);
    const R = m.weights[0];
    expectClose(grads.x.data, [R[0] + R[1] + R[2], R[3] + R[4] + R[5]], 1e-6);
  });
});

describe('Cast gradient', () => {
  it('casts the gradient back to the input type: float -> double -> (loss)', async () => {
    // y = Cast(x, DOUBLE); the helper casts y back to float for the loss, so both Cast rules run.
    const m = makeOpModel({ op: 'Cast', attrs: { to: DataType.DOUBLE }, inputs: [{ name: 'x', shape: [2, 2], kind: 'param' }] });
    const { grads, model } = await computeGradients(m);
    expectClose(grads.x.data, m.weights[0], 1e-6);
    const backCast = model.graph.nodes.filter((n) => n.opType === 'Cast' && n.name.startsWith('grad/'));
    expect(backCast.map((n) => n.attrs.int('to')).sort()).toEqual([DataType.FLOAT, DataType.DOUBLE]);
    await checkGradients(m);
  });
});
