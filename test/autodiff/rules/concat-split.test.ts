import { describe, it } from 'vitest';
import { checkGradients, computeGradients, expectClose, intInput, makeOpModel, type OpModelSpec, paramX } from '../helpers.js';

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
    const m = makeOpModel({ op: 'Split', outputs: 2, lossOutputs: [1], inputs: [paramX([4]), intInput('split', [1, 3])] });
    const { grads } = await computeGradients(m);
    const R = m.weights[1];
    expectClose(grads.x.data, [0, R[0], R[1], R[2]], 0);
  });

  const cases: [string, OpModelSpec][] = [
    ['Concat axis 0, opset 13', { op: 'Concat', attrs: { axis: 0 }, inputs: [{ name: 'a', shape: [1, 3], kind: 'param' }, { name: 'b', shape: [2, 3], kind: 'param' }] }],
    ['Concat axis -1, three inputs, opset 11', { op: 'Concat', opset: 11, attrs: { axis: -1 }, inputs: [{ name: 'a', shape: [2, 1], kind: 'param' }, { name: 'b', shape: [2, 2], kind: 'param' }, { name: 'c', shape: [2, 3], kind: 'param' }] }],
    ['Concat with a non-param input', { op: 'Concat', attrs: { axis: 0 }, inputs: [{ name: 'a', shape: [2], kind: 'param' }, { name: 'k', shape: [3], kind: 'const' }] }],
    ['Split equal parts, opset 13', { op: 'Split', attrs: { axis: 1 }, outputs: 2, lossOutputs: [0, 1], inputs: [paramX([2, 4])] }],
    ['Split sizes attribute, opset 11', { op: 'Split', opset: 11, attrs: { axis: 0, split: [1, 2] }, outputs: 2, lossOutputs: [0, 1], inputs: [paramX([3, 2])] }],
    ['Split, one output unused', { op: 'Split', attrs: { axis: -1 }, outputs: 3, lossOutputs: [0, 2], inputs: [paramX([2, 3])] }],
  ];
  it.each(cases)('%s matches central differences', async (_, spec) => {
    await checkGradients(makeOpModel(spec));
  });
});
