import { describe, it } from 'vitest';
import { float } from '../../../src/ir/attributes.js';
import { checkGradients, computeGradients, expectClose, makeOpModel, type OpInput } from '../helpers.js';

describe('InstanceNormalization gradient', () => {
  it('matches a hand computation (one plane of two values)', async () => {
    // X [1,1,2] = [a, a + 2d]: mu = a + d, var = d^2, Xhat = [-1, 1] (epsilon ~ 0). Y = s Xhat + B.
    // dB = R0 + R1; dscale = R1 - R0; and dX = 0: two values normalized are always [-1, 1], whatever X is.
    const m = makeOpModel({
      op: 'InstanceNormalization',
      inputs: [
        { name: 'X', kind: 'param', shape: [1, 1, 2], values: [1, 3] },
        { name: 'scale', kind: 'param', shape: [1], values: [1.5] },
        { name: 'B', kind: 'param', shape: [1], values: [0.2] },
      ],
      attrs: { epsilon: float(1e-9) },
    });
    const [r0, r1] = m.weights[0];
    const { grads } = await computeGradients(m);
    expectClose(grads.B.data, [r0 + r1], 1e-5, 'dB');
    expectClose(grads.scale.data, [r1 - r0], 1e-5, 'dscale');
    expectClose(grads.X.data, [0, 0], 1e-5, 'dX');
  });

  it('matches a hand computation of dX (three values)', async () => {
    // X = [0, 1, 5]: mu = 2, centered [-2, -1, 3], var = 14/3, istd = 1/sqrt(14/3); scale 2, R from the model.
    const m = makeOpModel({
      op: 'InstanceNormalization',
      inputs: [
        { name: 'X', kind: 'param', shape: [1, 1, 3], values: [0, 1, 5] },
        { name: 'scale', kind: 'param', shape: [1], values: [2] },
        { name: 'B', kind: 'param', shape: [1], values: [0] },
      ],
      attrs: { epsilon: float(1e-9) },
    });
    const R = Array.from(m.weights[0]);
    const istd = 1 / Math.sqrt(14 / 3);
    const xhat = [-2, -1, 3].map((c) => c * istd);
    const G = R.map((r) => 2 * r);
    const meanG = G.reduce((a, b) => a + b) / 3;
    const meanGX = G.reduce((a, g, i) => a + g * xhat[i], 0) / 3;
    const { grads } = await computeGradients(m);
    expectClose(grads.X.data, G.map((g, i) => istd * (g - meanG - xhat[i] * meanGX)), 1e-4, 'dX');
    expectClose(grads.scale.data, [R.reduce((a, r, i) => a + r * xhat[i], 0)], 1e-5, 'dscale');
  });

  it.each([[[2, 3, 4]], [[2, 2, 3, 4]], [[1, 3, 2, 2, 3]]])('passes a central-difference check: %j', async (x) => {
    const inputs: OpInput[] = [
      { name: 'X', kind: 'param', shape: x, range: [-2, 2] },
      { name: 'scale', kind: 'param', shape: [x[1]] },
      { name: 'B', kind: 'param', shape: [x[1]] },
    ];
    await checkGradients(makeOpModel({ op: 'InstanceNormalization', inputs, seed: 3 }), { label: JSON.stringify(x) });
  });
});

describe('LRN gradient', () => {
  it('matches a hand computation (size 1: Y = X (bias + alpha X^2)^-beta)', async () => {
    // dY/dX = D^-beta - 2 alpha beta X^2 D^(-beta-1), D = bias + alpha X^2 (size 1: the window is the element)
    const xs = [0.5, -1, 2];
    const [alpha, beta, bias] = [0.3, 0.75, 1.5];
    const m = makeOpModel({
      op: 'LRN',
      inputs: [{ name: 'X', kind: 'param', shape: [1, 3, 1, 1], values: xs }],
      attrs: { size: 1, alpha: float(alpha), beta: float(beta), bias: float(bias) },
    });
    const R = m.weights[0];
    const slope = (x: number) => {
      const d = bias + alpha * x * x;
      return d ** -beta - 2 * alpha * beta * x * x * d ** (-beta - 1);
    };
    const { grads } = await computeGradients(m);
    expectClose(grads.X.data, xs.map((x, i) => slope(x) * R[i]), 1e-5, 'dX');
  });

  // Large alpha so the cross-channel terms are not negligible next to dY D^-beta. onnxruntime runs LRN on 4-D
  // inputs with odd sizes only; the rule itself also covers even sizes (lo != hi) and other ranks.
  const cases: { x: number[]; size: number; alpha?: number; beta?: number; bias?: number }[] = [
    { x: [2, 5, 3, 3], size: 3, alpha: 0.5 },
    { x: [1, 6, 2, 3], size: 5, alpha: 0.8, beta: 0.6, bias: 2 },
    { x: [1, 7, 2, 2], size: 7, alpha: 0.1 },
    { x: [2, 3, 2, 2], size: 5 },
  ];
  it.each(cases)('passes a central-difference check: $x size $size', async ({ x, size, alpha, beta, bias }) => {
    const attrs = { size, alpha: alpha === undefined ? undefined : float(alpha), beta: beta === undefined ? undefined : float(beta), bias: bias === undefined ? undefined : float(bias) };
    const m = makeOpModel({ op: 'LRN', inputs: [{ name: 'X', kind: 'param', shape: x, range: [-2, 2] }], attrs, seed: 6 });
    await checkGradients(m, { label: `${JSON.stringify(x)} size ${size}` });
  });
});
