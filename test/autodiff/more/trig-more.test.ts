import { describe, expect, it } from 'vitest';
import { buildBackward } from '../../../src/autodiff/backward.js';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { newModel } from '../../../src/ir/model.js';
import { floatTensor } from '../../../src/ir/tensor.js';
import { checkGradients, computeGradients, expectClose, makeOpModel, type OpModel } from '../helpers.js';

/** Each op with its derivative and a domain the check stays inside (away from the poles and branch points). */
const OPS: { op: string; slope: (x: number) => number; values: number[]; range: [number, number] }[] = [
  { op: 'Atan', slope: (x) => 1 / (1 + x * x), values: [-2, -0.5, 0.3, 1.5], range: [-3, 3] },
  { op: 'Tan', slope: (x) => 1 / Math.cos(x) ** 2, values: [-1, -0.3, 0.2, 0.9], range: [-1.2, 1.2] },
  { op: 'Asin', slope: (x) => 1 / Math.sqrt(1 - x * x), values: [-0.8, -0.2, 0.1, 0.6], range: [-0.85, 0.85] },
  { op: 'Acos', slope: (x) => -1 / Math.sqrt(1 - x * x), values: [-0.8, -0.2, 0.1, 0.6], range: [-0.85, 0.85] },
  { op: 'Sinh', slope: Math.cosh, values: [-1.5, -0.3, 0.4, 2], range: [-2, 2] },
  { op: 'Cosh', slope: Math.sinh, values: [-1.5, -0.3, 0.4, 2], range: [-2, 2] },
  { op: 'Asinh', slope: (x) => 1 / Math.sqrt(x * x + 1), values: [-2, -0.5, 0.3, 1.5], range: [-3, 3] },
  { op: 'Acosh', slope: (x) => 1 / Math.sqrt(x * x - 1), values: [1.2, 1.5, 2, 3], range: [1.2, 3] },
  { op: 'Atanh', slope: (x) => 1 / (1 - x * x), values: [-0.8, -0.2, 0.1, 0.6], range: [-0.8, 0.8] },
];

describe('Atan / Asin / Acos / Sinh / Cosh / Asinh / Acosh / Atanh gradients', () => {
  it.each(OPS)('$op matches its derivative computed by hand', async ({ op, slope, values }) => {
    const m = makeOpModel({ op, inputs: [{ name: 'X', kind: 'param', shape: [4], values }] });
    const R = m.weights[0];
    const { grads } = await computeGradients(m);
    expectClose(grads.X.data, values.map((x, i) => slope(x) * R[i]), 1e-5, op);
  });

  it.each(OPS.flatMap((o) => [{ ...o, shape: [2, 3, 4] }, { ...o, shape: [5, 3] }]))('$op passes a central-difference check: $shape', async ({ op, range, shape }) => {
    // Asin/Acos/Atanh steepen near +-1: a smaller step keeps the difference quotient accurate there.
    const eps = ['Asin', 'Acos', 'Atanh'].includes(op) ? 2e-3 : undefined;
    await checkGradients(makeOpModel({ op, inputs: [{ name: 'X', kind: 'param', shape, range }], seed: 3 }), { label: JSON.stringify(shape), eps });
  });
});

describe('Trilu gradient', () => {
  it('masks dY like the forward op (hand computed)', async () => {
    // X [3, 3], upper with k = 1: only (0,1), (0,2), (1,2) pass
    const m = makeOpModel({
      op: 'Trilu',
      inputs: [
        { name: 'X', kind: 'param', shape: [3, 3] },
        { name: 'k', kind: 'int', shape: [], values: [1] },
      ],
      attrs: { upper: 1 },
      opset: 14,
    });
    const R = m.weights[0];
    const kept = new Set([1, 2, 5]);
    expectClose((await computeGradients(m)).grads.X.data, Array.from(R, (r, i) => (kept.has(i) ? r : 0)), 1e-6, 'dX');
  });

  it.each([
    { x: [3, 4], upper: 1, k: undefined },
    { x: [2, 4, 3], upper: 0, k: undefined },
    { x: [2, 3, 5], upper: 1, k: -1 },
    { x: [4, 4], upper: 0, k: 2 },
  ])('passes a central-difference check: $x upper $upper k $k', async ({ x, upper, k }) => {
    const inputs = [{ name: 'X', kind: 'param' as const, shape: x }, ...(k === undefined ? [] : [{ name: 'k', kind: 'int' as const, shape: [], values: [k] }])];
    await checkGradients(makeOpModel({ op: 'Trilu', inputs, attrs: { upper }, opset: 14 }), { label: JSON.stringify({ x, upper, k }) });
  });
});

describe('Hardmax gradient', () => {
  it('is zero: the parameter gets no gradient through it, and other paths still differentiate', async () => {
    const alone = makeOpModel({ op: 'Hardmax', inputs: [{ name: 'P', kind: 'param', shape: [2, 3] }], opset: 13 });
    const g = alone.model.graph;
    const { grads, unused } = buildBackward(alone.model, { loss: g.requireValue('loss'), wrt: [g.requireValue('P')] });
    expect(grads.size).toBe(0);
    expect(unused.map((v) => v.name)).toEqual(['P']);
  });

  it('contributes nothing next to a differentiable path: y = Hardmax(P) * P gives dP = Hardmax(P) * R', async () => {
    const model = newModel({ opset: 13 });
    const g = model.graph;
    const b = new GraphBuilder(g);
    const values = [0.2, 1.5, -0.3, 2, -1, 0.4];
    const R = [0.5, -1, 2, 0.25, 1.5, -0.75];
    const p = g.addInitializer(floatTensor('P', Float32Array.from(values), [2, 3]), { exactName: true });
    const r = g.addInitializer(floatTensor('R', Float32Array.from(R), [2, 3]), { exactName: true });
    const y = b.mul(b.op('Hardmax', [p], { axis: 1 }), p);
    g.addOutput(b.identity(b.reduceSum(b.mul(y, r), undefined, false), 'loss'));
    const m: OpModel = { model, feeds: {}, params: ['P'], loss: 'loss', values: {}, weights: [Float32Array.from(R)], op: 'Hardmax' };
    // row maxima at columns 1 and 0
    expectClose((await computeGradients(m)).grads.P.data, [0, -1, 0, 0.25, 0, 0], 1e-6, 'dP');
  });
});
