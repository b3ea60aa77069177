import { describe, expect, it } from 'vitest';
import { float } from '../../../src/ir/attributes.js';
import { buildBackwardOf, checkGradients, computeGradients, expectClose, makeOpModel, type OpInput } from '../helpers.js';

describe('LayerNormalization gradient', () => {
  it('has dB = sum of dY over the leading axes and dScale = sum of dY * xhat (hand computed)', async () => {
    // X [2, 2] rows [0, 2] and [1, 5]: xhat = [-1, 1] per row (up to eps); y = xhat * s + B
    const m = makeOpModel({
      op: 'LayerNormalization',
      inputs: [
        { name: 'X', kind: 'param', shape: [2, 2], values: [0, 2, 1, 5] },
        { name: 'scale', kind: 'param', shape: [2], values: [1, 1] },
        { name: 'B', kind: 'param', shape: [2], values: [0, 0] },
      ],
      attrs: { epsilon: 1e-9 },
    });
    const [r0, r1, r2, r3] = m.weights[0];
    const { grads } = await computeGradients(m);
    expectClose(grads.B.data, [r0 + r2, r1 + r3], 1e-5, 'dB');
    expectClose(grads.scale.data, [-r0 - r2, r1 + r3], 1e-4, 'dScale');
    // With 2 elements xhat is constant (±1) in X, so dX = 0.
    expectClose(grads.X.data, [0, 0, 0, 0], 1e-4, 'dX');
  });

  it.each([
    { label: 'last axis', x: [3, 4], p: [4], attrs: {} },
    { label: 'axis 1 of rank 3', x: [2, 3, 4], p: [3, 4], attrs: { axis: 1 } },
    { label: 'axis -2, Mean/InvStdDev outputs', x: [2, 3, 4], p: [3, 4], attrs: { axis: -2 }, outputs: 3 },
    { label: 'scale broadcast within normalized axes', x: [2, 3, 4], p: [1, 4], attrs: { axis: 1 } },
    { label: 'axis 0', x: [2, 3], p: [2, 3], attrs: { axis: 0, epsilon: 1e-3 } },
  ])('passes a central-difference check: $label', async ({ label, x, p, attrs, outputs }) => {
    const m = makeOpModel({
      op: 'LayerNormalization',
      inputs: [
        { name: 'X', kind: 'param', shape: x },
        { name: 'scale', kind: 'param', shape: p, range: [0.5, 1.5] },
        { name: 'B', kind: 'param', shape: p },
      ],
      attrs,
      outputs,
    });
    await checkGradients(m, { label, samplesPerParam: 10 });
    if (outputs === 3) {
      const { model } = await computeGradients(m);
      expect(model.graph.nodes.some((n) => n.opType === 'ReduceMean' && n.inputs[0]?.name === 'X')).toBe(false);
    }
  });
});

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

/** Normalizes `x` (mean 0, biased variance 1 after adding eps) and returns xhat and 1/std. */
function normalize(x: number[], eps: number): { xhat: number[]; istd: number } {
  const mean = x.reduce((a, v) => a + v, 0) / x.length;
  const variance = x.reduce((a, v) => a + (v - mean) ** 2, 0) / x.length;
  const istd = 1 / Math.sqrt(variance + eps);
  return { xhat: x.map((v) => (v - mean) * istd), istd };
}

/** dX of a normalization over one slice with upstream gradient g: istd (g - mean g - xhat mean(g xhat)). */
function normalizedGrad(g: number[], xhat: number[], istd: number): number[] {
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const mg = mean(g);
  const mgx = mean(g.map((v, i) => v * xhat[i]));
  return g.map((v, i) => istd * (v - mg - xhat[i] * mgx));
}

describe('GroupNormalization gradient', () => {
  it('matches a hand computation, opset 18 (scale and bias per group)', async () => {
    // X [1, 2, 2], one group over all 4 values; scale [2], bias [0.5]
    const X = [1, 3, 5, 7];
    const m = makeOpModel({
      op: 'GroupNormalization',
      inputs: [
        { name: 'X', kind: 'param', shape: [1, 2, 2], values: X },
        { name: 'scale', kind: 'param', shape: [1], values: [2] },
        { name: 'bias', kind: 'param', shape: [1], values: [0.5] },
      ],
      attrs: { num_groups: 1 },
      opset: 18,
    });
    const R = Array.from(m.weights[0]);
    const { xhat, istd } = normalize(X, 1e-5);
    const { grads } = await computeGradients(m);
    expectClose(grads.bias.data, [R.reduce((a, r) => a + r, 0)], 1e-5, 'dbias');
    expectClose(grads.scale.data, [R.reduce((a, r, i) => a + r * xhat[i], 0)], 1e-5, 'dscale');
    expectClose(grads.X.data, normalizedGrad(R.map((r) => 2 * r), xhat, istd), 1e-4, 'dX');
  });

  it('matches a hand computation, opset 21 (scale and bias per channel)', async () => {
    // X [1, 4, 2] in 2 groups of 2 channels; scale per channel
    const X = [1, 3, 5, 7, -2, 0, 1, 4];
    const scale = [2, -1, 0.5, 3];
    const m = makeOpModel({
      op: 'GroupNormalization',
      inputs: [
        { name: 'X', kind: 'param', shape: [1, 4, 2], values: X },
        { name: 'scale', kind: 'param', shape: [4], values: scale },
        { name: 'bias', kind: 'param', shape: [4], values: [0, 0, 0, 0] },
      ],
      attrs: { num_groups: 2 },
      opset: 21,
    });
    const R = Array.from(m.weights[0]);
    const groups = [0, 1].map((gi) => normalize(X.slice(4 * gi, 4 * gi + 4), 1e-5));
    const xhat = groups.flatMap((s) => s.xhat);
    const g = R.map((r, i) => r * scale[Math.floor(i / 2)]);
    const dx = [0, 1].flatMap((gi) => normalizedGrad(g.slice(4 * gi, 4 * gi + 4), groups[gi].xhat, groups[gi].istd));
    const { grads } = await computeGradients(m);
    expectClose(grads.bias.data, [0, 1, 2, 3].map((c) => R[2 * c] + R[2 * c + 1]), 1e-5, 'dbias');
    expectClose(grads.scale.data, [0, 1, 2, 3].map((c) => R[2 * c] * xhat[2 * c] + R[2 * c + 1] * xhat[2 * c + 1]), 1e-5, 'dscale');
    expectClose(grads.X.data, dx, 1e-4, 'dX');
  });

  it.each([
    { x: [2, 4, 3], groups: 2, opset: 18 },
    { x: [2, 6, 2, 2], groups: 3, opset: 18 },
    { x: [1, 4, 5], groups: 4, opset: 18 },
    { x: [2, 4, 3], groups: 2, opset: 21 },
    { x: [2, 6, 2, 2], groups: 1, opset: 21 },
  ])('passes a central-difference check: $x, $groups groups, opset $opset', async ({ x, groups, opset }) => {
    const params = opset >= 21 ? x[1] : groups;
    const m = makeOpModel({
      op: 'GroupNormalization',
      inputs: [
        { name: 'X', kind: 'param', shape: x },
        { name: 'scale', kind: 'param', shape: [params], range: [0.5, 1.5] },
        { name: 'bias', kind: 'param', shape: [params] },
      ],
      attrs: { num_groups: groups },
      opset,
      seed: 7,
    });
    await checkGradients(m, { label: JSON.stringify({ x, groups, opset }) });
  });
});

describe('MeanVarianceNormalization gradient', () => {
  it('matches a hand computation (default axes [0, 2, 3])', async () => {
    // X [1, 1, 1, 3] = [0, 1, 5]: one slice
    const X = [0, 1, 5];
    const m = makeOpModel({ op: 'MeanVarianceNormalization', inputs: [{ name: 'X', kind: 'param', shape: [1, 1, 1, 3], values: X }], opset: 13 });
    const { xhat, istd } = normalize(X, 0);
    expectClose((await computeGradients(m)).grads.X.data, normalizedGrad(Array.from(m.weights[0]), xhat, istd), 1e-4, 'dX');
  });

  it.each([
    { x: [2, 3, 4, 2], axes: undefined, opset: 13 },
    { x: [3, 5], axes: [1], opset: 13 },
    { x: [2, 3, 4], axes: [0, 2], opset: 18 },
    { x: [2, 3, 2, 2], axes: [1, 2, 3], opset: 18 },
  ])('passes a central-difference check: $x axes $axes opset $opset', async ({ x, axes, opset }) => {
    const m = makeOpModel({ op: 'MeanVarianceNormalization', inputs: [{ name: 'X', kind: 'param', shape: x }], attrs: { axes }, opset, seed: 2 });
    await checkGradients(m, { label: JSON.stringify({ x, axes }) });
  });
});

describe('LpNormalization gradient', () => {
  it('matches a hand computation for p = 2 and p = 1', async () => {
    // p = 2: X [3, 4], n = 5, y = [0.6, 0.8]: dX = (R - y (R . y)) / 5
    const two = makeOpModel({ op: 'LpNormalization', inputs: [{ name: 'X', kind: 'param', shape: [1, 2], values: [3, 4] }], attrs: { p: 2, axis: 1 } });
    const [a0, a1] = two.weights[0];
    const ay = a0 * 0.6 + a1 * 0.8;
    expectClose((await computeGradients(two)).grads.X.data, [(a0 - 0.6 * ay) / 5, (a1 - 0.8 * ay) / 5], 1e-5, 'p = 2');
    // p = 1: X [1, -3], n = 4, y = [0.25, -0.75]: dX = (R - sign(X) (R . y)) / 4
    const one = makeOpModel({ op: 'LpNormalization', inputs: [{ name: 'X', kind: 'param', shape: [1, 2], values: [1, -3] }], attrs: { p: 1, axis: -1 } });
    const [b0, b1] = one.weights[0];
    const by = b0 * 0.25 - b1 * 0.75;
    expectClose((await computeGradients(one)).grads.X.data, [(b0 - by) / 4, (b1 + by) / 4], 1e-5, 'p = 1');
  });

  it.each([
    { x: [3, 4], p: 2, axis: -1 },
    { x: [2, 3, 4], p: 2, axis: 1 },
    { x: [3, 4], p: 1, axis: 0 },
    { x: [2, 3, 4], p: 1, axis: -1 },
  ])('passes a central-difference check: $x p $p axis $axis', async ({ x, p, axis }) => {
    // p = 1 has a kink at 0: keep the entries away from it.
    const m = makeOpModel({ op: 'LpNormalization', inputs: [{ name: 'X', kind: 'param', shape: x, minAbs: 0.1 }], attrs: { p, axis }, seed: 4 });
    await checkGradients(m, { label: JSON.stringify({ x, p, axis }) });
  });

  it('refuses p other than 1 and 2 in one line naming the node', () => {
    const m = makeOpModel({ op: 'LpNormalization', inputs: [{ name: 'X', kind: 'param', shape: [2, 3] }], attrs: { p: 3 } });
    expect(() => buildBackwardOf(m)).toThrow(/^LpNormalization node 'lpnormalization': LpNormalization with p = 3 has no gradient rule/);
  });
});
