import { describe, expect, it } from 'vitest';
import { sameAutoPads } from '../../src/autodiff/windows.js';
import { numel } from '../../src/ir/tensor.js';
import { Rng } from '../../src/util/rng.js';
import { buildBackwardOf, checkGradients, computeGradients, distinctValues, expectClose, makeOpModel, type OpInput, runOneOp } from './helpers.js';

type Mode = 'SAME_UPPER' | 'SAME_LOWER';

const random = (n: number, seed: number) => {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => rng.uniform(-1, 1));
};

describe('sameAutoPads', () => {
  it('follows the ONNX formula: extra pad at the end (UPPER) or the beginning (LOWER)', () => {
    // in 5, k 3, s 2: out 3, total (3-1)*2 + 3 - 5 = 2 -> [1 | 1]; in 6, k 3, s 2: out 3, total 1 -> UPPER [0 | 1]
    expect(sameAutoPads({ sizes: [5, 6], kernel: [3, 3], strides: [2, 2], dilations: [1, 1], mode: 'SAME_UPPER' })).toEqual([1, 0, 1, 1]);
    expect(sameAutoPads({ sizes: [5, 6], kernel: [3, 3], strides: [2, 2], dilations: [1, 1], mode: 'SAME_LOWER' })).toEqual([1, 1, 1, 0]);
    // dilation 2 makes k 3 span 5: total 4 at stride 1; k 1 stride 2 on an even size needs no pad (max(0, -1))
    expect(sameAutoPads({ sizes: [7, 4], kernel: [3, 1], strides: [1, 2], dilations: [2, 1], mode: 'SAME_UPPER' })).toEqual([2, 0, 2, 0]);
  });

  // Each case: op, input shape, kernel, strides (onnxruntime refuses dilations with SAME_*); Conv's weight has 3 outputs.
  const forwardCases: { op: string; x: number[]; k: number[]; s: number[]; attrs?: Record<string, number> }[] = [
    { op: 'Conv', x: [1, 2, 5, 6], k: [3, 2], s: [2, 2] },
    { op: 'Conv', x: [1, 2, 6, 7], k: [4, 3], s: [1, 2] },
    { op: 'Conv', x: [1, 2, 8], k: [3], s: [3] },
    { op: 'AveragePool', x: [1, 2, 5, 6], k: [3, 2], s: [2, 1] },
    { op: 'AveragePool', x: [1, 2, 6, 5], k: [2, 3], s: [2, 2], attrs: { count_include_pad: 1 } },
    { op: 'MaxPool', x: [1, 2, 7, 6], k: [3, 2], s: [2, 2] },
  ];
  for (const mode of ['SAME_UPPER', 'SAME_LOWER'] as Mode[]) {
    it.each(forwardCases)(`gives onnxruntime's ${mode} output as explicit pads: $op $x k $k s $s`, async ({ op, x, k, s, attrs }) => {
      const dilations = k.map(() => 1);
      const pads = sameAutoPads({ sizes: x.slice(2), kernel: k, strides: s, dilations, mode });
      const inputs = [{ data: random(numel(x), 1), shape: x }];
      if (op === 'Conv') inputs.push({ data: random(3 * x[1] * numel(k), 2), shape: [3, x[1], ...k] });
      const common = { strides: s, ...(op === 'Conv' ? {} : { kernel_shape: k }), ...attrs };
      const same = await runOneOp(op, inputs, { ...common, auto_pad: mode });
      const explicit = await runOneOp(op, inputs, { ...common, pads });
      expectClose(explicit, same, 1e-6, `${op} ${mode}`);
    });
  }
});

describe('auto_pad in the Conv / AveragePool / MaxPool gradients', () => {
  it('pads a SAME_UPPER Conv at the end (hand computed, 1-D)', async () => {
    // X [1,1,4], W [1,1,2], stride 1, SAME_UPPER: total pad 1 at the end -> y[o] = w0 x[o] + w1 x[o+1], x[4] = 0
    const m = makeOpModel({
      op: 'Conv',
      inputs: [
        { name: 'X', kind: 'param', shape: [1, 1, 4], values: [1, 2, 3, 4] },
        { name: 'W', kind: 'param', shape: [1, 1, 2], values: [0.5, -2] },
      ],
      attrs: { auto_pad: 'SAME_UPPER' },
    });
    const R = m.weights[0];
    const { grads } = await computeGradients(m);
    expectClose(grads.W.data, [R[0] + 2 * R[1] + 3 * R[2] + 4 * R[3], 2 * R[0] + 3 * R[1] + 4 * R[2]], 1e-5, 'dW');
    expectClose(grads.X.data, [0.5 * R[0], -2 * R[0] + 0.5 * R[1], -2 * R[1] + 0.5 * R[2], -2 * R[2] + 0.5 * R[3]], 1e-5, 'dX');
  });

  it('pads a SAME_LOWER Conv at the beginning (hand computed, 1-D)', async () => {
    // Same as above with the pad before: y[o] = w0 x[o-1] + w1 x[o], x[-1] = 0
    const m = makeOpModel({
      op: 'Conv',
      inputs: [
        { name: 'X', kind: 'param', shape: [1, 1, 4], values: [1, 2, 3, 4] },
        { name: 'W', kind: 'param', shape: [1, 1, 2], values: [0.5, -2] },
      ],
      attrs: { auto_pad: 'SAME_LOWER' },
    });
    const R = m.weights[0];
    const { grads } = await computeGradients(m);
    expectClose(grads.W.data, [R[1] + 2 * R[2] + 3 * R[3], R[0] + 2 * R[1] + 3 * R[2] + 4 * R[3]], 1e-5, 'dW');
  });

  const cases: { label: string; op: string; x: number[]; k: number[]; attrs: Record<string, unknown> }[] = [
    { label: 'Conv SAME_UPPER s1, odd', op: 'Conv', x: [1, 2, 5, 5], k: [3, 3], attrs: { auto_pad: 'SAME_UPPER' } },
    { label: 'Conv SAME_UPPER s2, even/odd', op: 'Conv', x: [2, 2, 6, 5], k: [3, 3], attrs: { auto_pad: 'SAME_UPPER', strides: [2, 2] } },
    { label: 'Conv SAME_LOWER s2, k2', op: 'Conv', x: [1, 2, 5, 6], k: [2, 2], attrs: { auto_pad: 'SAME_LOWER', strides: [2, 2] } },
    { label: 'Conv SAME_UPPER s3, 1-D', op: 'Conv', x: [1, 2, 8], k: [4], attrs: { auto_pad: 'SAME_UPPER', strides: [3] } },
    { label: 'Conv VALID s2', op: 'Conv', x: [1, 2, 6, 5], k: [3, 2], attrs: { auto_pad: 'VALID', strides: [2, 2] } },
    { label: 'AveragePool SAME_UPPER s2', op: 'AveragePool', x: [1, 2, 5, 6], k: [3, 3], attrs: { auto_pad: 'SAME_UPPER', strides: [2, 2] } },
    { label: 'AveragePool SAME_LOWER s1 count_include_pad', op: 'AveragePool', x: [1, 2, 4, 5], k: [2, 3], attrs: { auto_pad: 'SAME_LOWER', count_include_pad: 1 } },
    { label: 'MaxPool SAME_UPPER s2', op: 'MaxPool', x: [1, 2, 5, 6], k: [3, 3], attrs: { auto_pad: 'SAME_UPPER', strides: [2, 2] } },
    { label: 'MaxPool SAME_LOWER s1', op: 'MaxPool', x: [1, 2, 4, 5], k: [2, 2], attrs: { auto_pad: 'SAME_LOWER' } },
  ];

  it.each(cases)('passes a central-difference check: $label', async ({ label, op, x, k, attrs }) => {
    const inputs: OpInput[] = [{ name: 'X', kind: 'param', shape: x, values: distinctValues(numel(x), 7) }];
    if (op === 'Conv') inputs.push({ name: 'W', kind: 'param', shape: [3, x[1], ...k] });
    const m = makeOpModel({ op, inputs, attrs: { ...(op === 'Conv' ? {} : { kernel_shape: k }), ...attrs } as Record<string, number[] | string | number> });
    await checkGradients(m, { label, samplesPerParam: 10 });
  });

  it('refuses SAME_* when the input sizes are not static, naming the node', () => {
    const m = makeOpModel({
      op: 'Conv',
      inputs: [
        { name: 'X', kind: 'param', shape: [1, 1, 4, 4] },
        { name: 'W', kind: 'param', shape: [1, 1, 3, 3] },
      ],
      attrs: { auto_pad: 'SAME_UPPER', strides: [2, 2] },
    });
    m.model.graph.requireValue('X').setTensorType(1, [1, 1, 'H', 'W']);
    expect(() => buildBackwardOf(m)).toThrow(/Conv node 'conv'.*auto_pad=SAME_UPPER needs static spatial sizes of 'X'/);
  });

  it('still refuses SAME_* on ConvTranspose', () => {
    const m = makeOpModel({
      op: 'ConvTranspose',
      inputs: [
        { name: 'X', kind: 'param', shape: [1, 1, 3, 3] },
        { name: 'W', kind: 'param', shape: [1, 1, 2, 2] },
      ],
      attrs: { auto_pad: 'SAME_UPPER', strides: [2, 2] },
    });
    expect(() => buildBackwardOf(m)).toThrow(/auto_pad=SAME_UPPER is not supported by the ConvTranspose gradient rule/);
  });
});
