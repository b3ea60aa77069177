import { describe, expect, it } from 'vitest';
import { DataType } from '../../../src/ir/dtype.js';
import { checkGradients, computeGradients, expectClose, makeOpModel, type OpInput } from '../helpers.js';

const erf = (x: number) => {
  // Abramowitz-Stegun 7.1.26 is too coarse for a 1e-4 check; integrate the Gaussian instead (Simpson, 2000 steps).
  const n = 2000;
  const h = x / n;
  let s = 0;
  for (let i = 0; i <= n; i++) s += (i === 0 || i === n ? 1 : i % 2 ? 4 : 2) * Math.exp(-((i * h) ** 2));
  return ((2 / Math.sqrt(Math.PI)) * s * h) / 3;
};
const phi = (x: number) => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
const Phi = (x: number) => 0.5 * (1 + erf(x / Math.SQRT2));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

interface Unary {
  op: string;
  attrs?: Record<string, string | number>;
  opset?: number;
  range?: [number, number];
  minAbs?: number;
  /** dy/dx at x, by hand. */
  slope: (x: number) => number;
}

const UNARY: Unary[] = [
  { op: 'Neg', slope: () => -1 },
  { op: 'Identity', slope: () => 1 },
  { op: 'Relu', minAbs: 0.05, slope: (x) => (x > 0 ? 1 : 0) },
  { op: 'LeakyRelu', attrs: { alpha: 0.2 }, minAbs: 0.05, slope: (x) => (x > 0 ? 1 : 0.2) },
  { op: 'Sigmoid', slope: (x) => sigmoid(x) * (1 - sigmoid(x)) },
  { op: 'Tanh', slope: (x) => 1 - Math.tanh(x) ** 2 },
  { op: 'Exp', slope: (x) => Math.exp(x) },
  { op: 'Log', range: [0.5, 2], slope: (x) => 1 / x },
  { op: 'Sqrt', range: [0.5, 2], slope: (x) => 0.5 / Math.sqrt(x) },
  { op: 'Erf', slope: (x) => (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) },
  { op: 'Gelu', opset: 20, range: [-2, 2], slope: (x) => Phi(x) + x * phi(x) },
  {
    op: 'Gelu',
    opset: 20,
    attrs: { approximate: 'tanh' },
    range: [-2, 2],
    slope: (x) => {
      const k = Math.sqrt(2 / Math.PI);
      const t = Math.tanh(k * (x + 0.044715 * x ** 3));
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x);
    },
  },
];

const label = (u: Unary) => `${u.op}${u.attrs ? JSON.stringify(u.attrs) : ''}`;
const param = (u: Unary, shape: number[]): OpInput => ({ name: 'x', shape, kind: 'param', range: u.range, minAbs: u.minAbs });

describe('pointwise gradients', () => {
  it.each(UNARY.map((u) => [label(u), u] as const))('%s: dx = dy * f\'(x) by hand', async (_, u) => {
    // y = f(x[2,3]); loss = sum(y * R)  =>  dx = R * f'(x)
    const m = makeOpModel({ op: u.op, inputs: [param(u, [2, 3])], attrs: u.attrs, opset: u.opset });
    const { grads } = await computeGradients(m);
    const x = m.values.x;
    expectClose(grads.x.data, Array.from(x, (v, i) => m.weights[0][i] * u.slope(v)), 1e-4, label(u));
  });

  it.each(UNARY.flatMap((u) => [[label(u), u, [5]], [label(u), u, [2, 1, 3]]] as const))('%s %j matches central differences', async (_, u, shape) => {
    const m = makeOpModel({ op: u.op, inputs: [param(u, [...shape])], attrs: u.attrs, opset: u.opset, seed: 7 });
    await checkGradients(m, { label: JSON.stringify(shape) });
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
