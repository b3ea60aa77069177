import { describe, expect, it } from 'vitest';
import { toTrainingModeBatchNorm } from '../../../src/autodiff/forward-outputs.js';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { DataType } from '../../../src/ir/dtype.js';
import { newModel } from '../../../src/ir/model.js';
import { floatTensor } from '../../../src/ir/tensor.js';
import { modelToBytes } from '../../../src/model-io.js';
import { createSession } from '../../../src/runtime/session.js';
import { floatTensor as ortFloat } from '../../../src/runtime/tensors.js';
import { checkGradients, computeGradients, expectClose, makeOpModel, type OpInput, type OpModel } from '../helpers.js';
import './nn-helpers.js';

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

describe('toTrainingModeBatchNorm', () => {
  it('switches an inference BatchNormalization to batch statistics with running-stat outputs', async () => {
    // x -> BatchNormalization(scale, B, mean, var) -> y (graph output)
    const model = newModel({ opset: 15 });
    const g = model.graph;
    const b = new GraphBuilder(g);
    const x = g.addInput('x').setTensorType(DataType.FLOAT, [4, 2]);
    const init = (name: string, data: number[]) => g.addInitializer(floatTensor(name, data, [2]), { exactName: true });
    const bn = b.node('BatchNormalization', [x, init('scale', [1, 1]), init('B', [0, 0]), init('mean', [0, 0]), init('var', [1, 1])], { momentum: 0.9 }, { name: 'bn', outputs: ['y'] });
    g.addOutput(bn.output(0));

    const result = toTrainingModeBatchNorm(bn);
    expect(result.node.name).toBe('bn');
    expect(result.node.attrs.int('training_mode')).toBe(1);
    expect(result.meanInput.name).toBe('mean');
    expect(result.varInput.name).toBe('var');
    expect(toTrainingModeBatchNorm(result.node).node).toBe(result.node);
    // Both running statistics must be fetched (see fetchRunningStats): with only the mean, Y came out wrong.
    g.addOutput(result.runningMean);
    g.addOutput(result.runningVar);

    const data = Float32Array.from([1, 10, 2, 20, 3, 30, 4, 40]);
    const s = await createSession(modelToBytes(model));
    const out = await s.run({ x: ortFloat(data, [4, 2]) });
    await s.release();
    // Batch statistics normalize each column to zero mean: column 0 is [1,2,3,4] -> mean 2.5.
    const y = out.y.data as Float32Array;
    expect(Math.abs(y[0] + y[2] + y[4] + y[6])).toBeLessThan(1e-5);
    expect(y[6]).toBeCloseTo(1.5 / Math.sqrt(1.25 + 1e-5), 4);
    // running_mean = 0.9 * 0 + 0.1 * [2.5, 25]
    expectClose(out[result.runningMean.name].data as Float32Array, [0.25, 2.5], 1e-5, 'running mean');
  });

  it('refuses opset 13 with advice', () => {
    const model = newModel({ opset: 13 });
    const g = model.graph;
    const x = g.addInput('x').setTensorType(DataType.FLOAT, [4, 2]);
    const p = ['s', 'b', 'm', 'v'].map((n) => g.addInitializer(floatTensor(n, [1, 1], [2]), { exactName: true }));
    const bn = new GraphBuilder(g).node('BatchNormalization', [x, ...p], {}, { name: 'bn' });
    expect(() => toTrainingModeBatchNorm(bn)).toThrow(/opset 14 or later.*has 13/);
  });
});

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
