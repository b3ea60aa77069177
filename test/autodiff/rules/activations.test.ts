import { describe, it } from 'vitest';
import { float } from '../../../src/ir/attributes.js';
import { awayFromKinks, checkGradients, checkSlopeOnRange, computeGradients, expectClose, expectSlopeAtFixedPoints, type KinkedSlopeCase, makeOpModel, type RandomSlopeCase, type RangeSlopeCase, testSlopesAwayFromKinks, testSlopesOnRandomInputs } from '../helpers.js';

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

const SELU_ALPHA = 1.67326319217681884765625;
const SELU_GAMMA = 1.05070102214813232421875;

describe('activation gradients on random inputs', () => {
  const cases: RandomSlopeCase[] = [
    { op: 'Relu', minAbs: 0.05, slope: (x) => (x > 0 ? 1 : 0) },
    { op: 'LeakyRelu', attrs: { alpha: 0.2 }, minAbs: 0.05, slope: (x) => (x > 0 ? 1 : 0.2) },
    { op: 'Sigmoid', slope: (x) => sigmoid(x) * (1 - sigmoid(x)) },
    { op: 'Tanh', slope: (x) => 1 - Math.tanh(x) ** 2 },
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
  testSlopesOnRandomInputs(cases);
});

describe('activation gradients away from their kinks', () => {
  const cases: KinkedSlopeCase[] = [
    { op: 'Elu', range: [-2, 2], kinks: [0], hand: [-1.5, -0.2, 0.3, 2], slope: (x) => (x > 0 ? 1 : Math.exp(x)) },
    { op: 'Elu', attrs: { alpha: 0.5 }, range: [-2, 2], kinks: [0], hand: [-1.5, 0.7], slope: (x) => (x > 0 ? 1 : 0.5 * Math.exp(x)) },
    { op: 'Selu', range: [-2, 2], kinks: [0], hand: [-1, -0.1, 0.4], slope: (x) => (x > 0 ? SELU_GAMMA : SELU_GAMMA * SELU_ALPHA * Math.exp(x)) },
    { op: 'Selu', attrs: { alpha: 2, gamma: 1.5 }, range: [-2, 2], kinks: [0], hand: [-0.5, 0.5], slope: (x) => (x > 0 ? 1.5 : 3 * Math.exp(x)) },
    // defaults alpha 0.2, beta 0.5: linear on (-2.5, 2.5)
    { op: 'HardSigmoid', range: [-4, 4], kinks: [-2.5, 2.5], hand: [-3, -1, 2, 3], slope: (x) => (Math.abs(x) < 2.5 ? 0.2 : 0) },
    { op: 'HardSigmoid', attrs: { alpha: 0.5, beta: 0.25 }, range: [-2, 2], kinks: [-0.5, 1.5], hand: [-1, 0, 1, 1.8], slope: (x) => (x > -0.5 && x < 1.5 ? 0.5 : 0) },
    { op: 'HardSwish', opset: 14, range: [-5, 5], kinks: [-3, 3], hand: [-4, -1, 0.5, 4], slope: (x) => (x < -3 ? 0 : x > 3 ? 1 : x / 3 + 0.5) },
    { op: 'Softsign', range: [-3, 3], kinks: [], hand: [-2, 0.5], slope: (x) => 1 / (1 + Math.abs(x)) ** 2 },
  ];
  testSlopesAwayFromKinks(cases);
});

describe('Celu / ThresholdedRelu / Mish gradients', () => {
  it('match the derivatives computed by hand', async () => {
    // Celu alpha 2: 1 for x > 0, e^(x/2) below
    await expectSlopeAtFixedPoints('Celu', (x) => (x > 0 ? 1 : Math.exp(x / 2)), { alpha: float(2) });
    // ThresholdedRelu alpha 0.5: 1 above 0.5, else 0 (0.4 is below the threshold)
    await expectSlopeAtFixedPoints('ThresholdedRelu', (x) => (x > 0.5 ? 1 : 0), { alpha: float(0.5) });
    const mish = (x: number) => {
      const t = Math.tanh(Math.log1p(Math.exp(x)));
      return t + (x / (1 + Math.exp(-x))) * (1 - t * t);
    };
    await expectSlopeAtFixedPoints('Mish', mish, {}, 18);
  });

  const cases: RangeSlopeCase[] = [
    { op: 'Celu', shape: [2, 3, 4], minAbs: 0.05 },
    { op: 'Celu', shape: [4, 5], attrs: { alpha: float(0.5) }, minAbs: 0.05 },
    // ThresholdedRelu's kink is at alpha (0.3): keep the values 0.05 away from it.
    { op: 'ThresholdedRelu', shape: [3, 5], attrs: { alpha: float(0.3) }, values: awayFromKinks(15, [-2, 2], [0.3], 9) },
    { op: 'Mish', shape: [2, 3, 4], opset: 18 },
  ];
  it.each(cases)('passes a central-difference check: $op $shape', checkSlopeOnRange);
});

describe('PRelu gradient', () => {
  it('by hand: dx = dy (x > 0) or slope dy; dslope sums dy x over the negative elements of its channel', async () => {
    const m = makeOpModel({
      op: 'PRelu',
      inputs: [
        { name: 'x', shape: [2, 2], kind: 'param', values: [-1, 2, -3, -0.5] },
        { name: 'slope', shape: [2], kind: 'param', values: [0.1, 0.3] },
      ],
    });
    const { grads } = await computeGradients(m);
    const R = m.weights[0];
    expectClose(grads.x.data, [0.1 * R[0], R[1], 0.1 * R[2], 0.3 * R[3]], 1e-6, 'dx');
    expectClose(grads.slope.data, [-1 * R[0] - 3 * R[2], -0.5 * R[3]], 1e-6, 'dslope');
  });

  it.each([
    [17, [2, 3, 2, 2], [3, 1, 1]], // per channel, as PyTorch exports nn.PReLU(C)
    [11, [2, 3, 2, 2], [3, 1, 1]],
    [17, [2, 3], [3]],
    [13, [4, 2], [1]], // one shared slope
    [17, [2, 3], [2, 3]],
  ])('opset %i x %j, slope %j matches central differences', async (opset, sx, ss) => {
    const m = makeOpModel({
      op: 'PRelu',
      opset,
      seed: 8,
      inputs: [
        { name: 'x', shape: sx, kind: 'param', minAbs: 0.05 },
        { name: 'slope', shape: ss, kind: 'param', range: [0.05, 0.5] },
      ],
    });
    await checkGradients(m, { label: `${JSON.stringify(sx)} ${JSON.stringify(ss)}` });
  });
});
