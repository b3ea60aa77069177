import { describe, it } from 'vitest';
import { checkGradients, computeGradients, expectClose, makeOpModel, type OpInput, type OpModel } from '../helpers.js';

/**
 * onnxruntime 1.30 computed a wrong Y for a training-mode BatchNormalization whose scale, B, mean (0) and var (1)
 * were constant initializers unless both running-statistics outputs were graph outputs (see the
 * toTrainingModeBatchNorm test; microsoft/onnxruntime#29790 reports a relative). The compiler fetches them to feed
 * them back, so the tests do the same.
 */
function fetchRunningStats(m: OpModel): OpModel {
  m.model.graph.addOutput(m.model.graph.requireValue('y1'));
  m.model.graph.addOutput(m.model.graph.requireValue('y2'));
  return m;
}

const bnInputs = (x: number[], statsKind: OpInput['kind'] = 'const', identityStats = false): OpInput[] => [
  { name: 'X', kind: 'param', shape: x },
  { name: 'scale', kind: 'param', shape: [x[1]], range: [0.5, 1.5] },
  { name: 'B', kind: 'param', shape: [x[1]] },
  { name: 'mean', kind: statsKind, shape: [x[1]], values: identityStats ? new Array(x[1]).fill(0) : undefined },
  { name: 'var', kind: statsKind, shape: [x[1]], range: [0.5, 1.5], values: identityStats ? new Array(x[1]).fill(1) : undefined },
];

describe('BatchNormalization gradient (training mode)', () => {
  it('matches the hand computation for one channel of two values', async () => {
    // X = [a, b] as [2, 1]: mu = (a+b)/2, xhat = [-1, 1] * |b-a|/sqrt((b-a)^2/4 + eps) ~ [-1, 1];
    // y = s*xhat + B, loss = R0*y0 + R1*y1: dB = R0+R1, dScale = R1 - R0, dX = s*inv*(R - mean(R) - xhat*mean(R*xhat))
    const eps = 1e-5;
    const m = fetchRunningStats(makeOpModel({
      op: 'BatchNormalization',
      inputs: [
        { name: 'X', kind: 'param', shape: [2, 1], values: [1, 3] },
        { name: 'scale', kind: 'param', shape: [1], values: [2] },
        { name: 'B', kind: 'param', shape: [1], values: [0.5] },
        { name: 'mean', kind: 'const', shape: [1], values: [0] },
        { name: 'var', kind: 'const', shape: [1], values: [1] },
      ],
      attrs: { training_mode: 1, epsilon: eps },
      outputs: 3,
    }));
    const [r0, r1] = m.weights[0];
    const inv = 1 / Math.sqrt(1 + eps);
    const xhat = [-inv, inv];
    const meanR = (r0 + r1) / 2;
    const meanRx = (r0 * xhat[0] + r1 * xhat[1]) / 2;
    const { grads } = await computeGradients(m);
    expectClose(grads.B.data, [r0 + r1], 1e-5, 'dB');
    expectClose(grads.scale.data, [r0 * xhat[0] + r1 * xhat[1]], 1e-5, 'dScale');
    expectClose(grads.X.data, [0, 1].map((i) => 2 * inv * ([r0, r1][i] - meanR - xhat[i] * meanRx)), 1e-4, 'dX');
  });

  it.each([
    { label: '[N, C]', x: [4, 3] },
    { label: '[N, C, H, W]', x: [2, 3, 3, 2] },
    { label: '[N, C, L]', x: [3, 2, 4] },
    { label: 'opset 14', x: [2, 2, 3, 3], opset: 14 },
    { label: 'stored statistics 0 and 1', x: [4, 2], identityStats: true },
  ])('passes a central-difference check: $label', async ({ label, x, opset, identityStats }) => {
    const m = fetchRunningStats(
      makeOpModel({ op: 'BatchNormalization', inputs: bnInputs(x, 'const', identityStats), attrs: { training_mode: 1 }, outputs: 3, opset: opset ?? 15 }),
    );
    await checkGradients(m, { label, samplesPerParam: 10 });
  });
});

describe('BatchNormalization gradient (inference mode)', () => {
  it.each([
    { label: '[N, C, H, W]', x: [2, 3, 2, 2], opset: 15 },
    { label: 'opset 12 [N, C]', x: [3, 2], opset: 12 },
  ])('passes a central-difference check, running stats included: $label', async ({ label, x, opset }) => {
    const m = makeOpModel({ op: 'BatchNormalization', inputs: bnInputs(x, 'param'), opset });
    await checkGradients(m, { label, samplesPerParam: 10 });
  });
});
