import { describe, expect, it } from 'vitest';
import { checkGradients, computeGradients, expectClose, makeOpModel, type OpInput } from '../helpers.js';

describe('Add/Sub gradient', () => {
  it('hand case: d/da (a - b) . R = R, d/db = -R summed over the broadcast axis', async () => {
    // y = a[2,3] - b[3]; loss = sum(y * R)
    const m = makeOpModel({ op: 'Sub', inputs: [{ name: 'a', shape: [2, 3], kind: 'param' }, { name: 'b', shape: [3], kind: 'param' }] });
    const { grads } = await computeGradients(m);
    const R = m.weights[0];
    expectClose(grads.a.data, R, 1e-6, 'a');
    expect(grads.b.dims).toEqual([3]);
    expectClose(grads.b.data, [0, 1, 2].map((j) => -(R[j] + R[3 + j])), 1e-6, 'b');
  });

  it.each([
    ['Add', [2, 3], [2, 3]],
    ['Add', [2, 3], [1, 3]],
    ['Sub', [4, 1, 3], [2, 1]],
    ['Sub', [], [2, 2]],
  ])('%s %j %j matches central differences', async (op, sa, sb) => {
    const m = makeOpModel({ op, inputs: [{ name: 'a', shape: sa, kind: 'param' }, { name: 'b', shape: sb, kind: 'param' }] });
    await checkGradients(m, { label: `${JSON.stringify(sa)} ${JSON.stringify(sb)}` });
  });
});

describe('Mul, Div, Pow, Sum gradients', () => {
  it('Mul and Div by hand: d(a*b)/da = b, d(a/b)/db = -a/b^2', async () => {
    const inputs: OpInput[] = [{ name: 'a', shape: [3], kind: 'param', values: [1, 2, 3] }, { name: 'b', shape: [3], kind: 'param', values: [2, -4, 0.5] }];
    const mul = makeOpModel({ op: 'Mul', inputs });
    const R = mul.weights[0];
    const gm = (await computeGradients(mul)).grads;
    expectClose(gm.a.data, [2 * R[0], -4 * R[1], 0.5 * R[2]], 1e-6, 'Mul da');
    expectClose(gm.b.data, [1 * R[0], 2 * R[1], 3 * R[2]], 1e-6, 'Mul db');
    const div = makeOpModel({ op: 'Div', inputs });
    const Rd = div.weights[0];
    const gd = (await computeGradients(div)).grads;
    expectClose(gd.a.data, [Rd[0] / 2, Rd[1] / -4, Rd[2] / 0.5], 1e-6, 'Div da');
    expectClose(gd.b.data, [(-1 / 4) * Rd[0], (-2 / 16) * Rd[1], (-3 / 0.25) * Rd[2]], 1e-5, 'Div db');
  });

  it('Pow by hand: d(a^3)/da = 3a^2, d(a^p)/dp = a^p ln a; a constant exponent 2 gives 2a', async () => {
    const m = makeOpModel({ op: 'Pow', inputs: [{ name: 'a', shape: [2], kind: 'param', values: [1.5, 2] }, { name: 'p', shape: [], kind: 'param', values: [3] }] });
    const { grads } = await computeGradients(m);
    const R = m.weights[0];
    expectClose(grads.a.data, [3 * 1.5 ** 2 * R[0], 3 * 4 * R[1]], 1e-5, 'da');
    expectClose(grads.p.data, [1.5 ** 3 * Math.log(1.5) * R[0] + 8 * Math.log(2) * R[1]], 1e-5, 'dp');
    const square = makeOpModel({ op: 'Pow', inputs: [{ name: 'a', shape: [2], kind: 'param', values: [1.5, -2] }, { name: 'two', shape: [], kind: 'const', values: [2] }] });
    const sq = await computeGradients(square);
    expectClose(sq.grads.a.data, [3 * square.weights[0][0], -4 * square.weights[0][1]], 1e-6, 'square');
    expect(sq.model.graph.nodes.filter((n) => n.opType === 'Pow')).toHaveLength(1); // the forward one only
  });

  it.each([
    ['Mul', [2, 3], [2, 3]],
    ['Mul', [2, 3], [3]],
    ['Mul', [4, 1, 3], [2, 1]],
    ['Div', [2, 3], [2, 1]],
    ['Div', [], [2, 2]],
    ['Pow', [2, 3], [3]],
    ['Pow', [3], []],
    ['Sum', [2, 3], [1, 3]],
  ])('%s %j %j matches central differences', async (op, sa, sb) => {
    const positive = op === 'Div' || op === 'Pow'; // away from division by zero and from ln of negatives
    const m = makeOpModel({
      op,
      inputs: [
        { name: 'a', shape: sa, kind: 'param', range: positive ? [0.5, 1.5] : undefined },
        { name: 'b', shape: sb, kind: 'param', range: positive ? [0.5, 1.5] : undefined },
      ],
    });
    await checkGradients(m, { label: `${JSON.stringify(sa)} ${JSON.stringify(sb)}` });
  });
});

describe('Mean gradient', () => {
  it('is dY / n summed down to each input (hand computed, broadcasting)', async () => {
    // A [2, 2], B [2], C [1]: y = (A + B + C) / 3
    const m = makeOpModel({
      op: 'Mean',
      inputs: [
        { name: 'A', kind: 'param', shape: [2, 2] },
        { name: 'B', kind: 'param', shape: [2] },
        { name: 'C', kind: 'param', shape: [1] },
      ],
    });
    const R = m.weights[0];
    const { grads } = await computeGradients(m);
    expectClose(grads.A.data, Array.from(R, (r) => r / 3), 1e-6, 'dA');
    expectClose(grads.B.data, [(R[0] + R[2]) / 3, (R[1] + R[3]) / 3], 1e-6, 'dB');
    expectClose(grads.C.data, [(R[0] + R[1] + R[2] + R[3]) / 3], 1e-6, 'dC');
    expect(grads.C.dims).toEqual([1]);
  });

  it.each([
    { shapes: [[2, 3]] },
    { shapes: [[2, 3], [2, 3]] },
    { shapes: [[2, 1, 4], [3, 1], [4]] },
    { shapes: [[3, 4], [1, 4], [3, 1], []] },
  ])('passes a central-difference check: $shapes', async ({ shapes }) => {
    const inputs: OpInput[] = shapes.map((shape, k) => ({ name: `X${k}`, kind: 'param', shape }));
    await checkGradients(makeOpModel({ op: 'Mean', inputs, seed: 6 }), { label: JSON.stringify(shapes) });
  });
});
