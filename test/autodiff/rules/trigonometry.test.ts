import { describe, it } from 'vitest';
import { checkGradients, checkSlopeOnRange, computeGradients, expectClose, expectSlopeAtFixedPoints, makeOpModel, type RangeSlopeCase } from '../helpers.js';

describe('Sin / Cos gradients', () => {
  it('match the derivatives computed by hand', async () => {
    await expectSlopeAtFixedPoints('Sin', Math.cos);
    await expectSlopeAtFixedPoints('Cos', (x) => -Math.sin(x));
  });

  const cases: RangeSlopeCase[] = [
    { op: 'Sin', shape: [2, 3, 4] },
    { op: 'Cos', shape: [5, 3] },
  ];
  it.each(cases)('passes a central-difference check: $op $shape', checkSlopeOnRange);
});

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
