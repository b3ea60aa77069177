import { describe, it } from 'vitest';
import { checkGradients, computeGradients, expectClose, makeOpModel } from '../helpers.js';

describe('Softmax and LogSoftmax gradients', () => {
  it('Softmax by hand: dx = y * (dy - sum(dy * y))', async () => {
    const m = makeOpModel({ op: 'Softmax', inputs: [{ name: 'x', shape: [1, 3], kind: 'param', values: [0.1, 0.5, -0.3] }] });
    const { grads } = await computeGradients(m);
    const e = [0.1, 0.5, -0.3].map(Math.exp);
    const y = e.map((v) => v / (e[0] + e[1] + e[2]));
    const R = m.weights[0];
    const dot = y.reduce((s, v, i) => s + v * R[i], 0);
    expectClose(grads.x.data, y.map((v, i) => v * (R[i] - dot)), 1e-5);
  });

  it('LogSoftmax by hand: dx = dy - softmax(x) * sum(dy)', async () => {
    const m = makeOpModel({ op: 'LogSoftmax', inputs: [{ name: 'x', shape: [3], kind: 'param', values: [0.1, 0.5, -0.3] }] });
    const { grads } = await computeGradients(m);
    const e = [0.1, 0.5, -0.3].map(Math.exp);
    const R = m.weights[0];
    const total = R[0] + R[1] + R[2];
    expectClose(grads.x.data, e.map((v, i) => R[i] - (v / (e[0] + e[1] + e[2])) * total), 1e-5);
  });

  it.each([
    ['Softmax', 13, [2, 3, 4], {}],
    ['Softmax', 13, [2, 3, 4], { axis: 1 }],
    ['Softmax', 11, [2, 3, 4], {}], // coerced 2-D: normalizes over axes 1 and 2 together
    ['Softmax', 11, [2, 3, 4], { axis: -1 }],
    ['LogSoftmax', 13, [3, 4], { axis: 0 }],
    ['LogSoftmax', 11, [2, 3, 2], { axis: 1 }],
  ])('%s opset %i %j %j matches central differences', async (op, opset, shape, attrs) => {
    const m = makeOpModel({ op, opset, attrs, inputs: [{ name: 'x', shape, kind: 'param', range: [-2, 2] }] });
    await checkGradients(m, { label: `opset ${opset}` });
  });
});
