import { describe, expect, it } from 'vitest';
import { buildBackward } from '../../../src/autodiff/backward.js';
import { gradcheck } from '../../../src/check/gradcheck.js';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { DataType } from '../../../src/ir/dtype.js';
import { newModel } from '../../../src/ir/model.js';
import { numel, floatTensor as tensorProto } from '../../../src/ir/tensor.js';
import { floatTensor } from '../../../src/runtime/tensors.js';
import { checkGradients, computeGradients, distinctValues, expectClose, makeOpModel } from '../helpers.js';

type PoolAttrs = Record<string, number | number[]>;

describe('MaxPool gradient', () => {
  it('sends each output gradient to its window maximum (hand computed, overlapping windows)', async () => {
    // y = MaxPool(X [1,1,3,3], k 2, stride 1) -> [1,1,2,2]; the centre 9 is the maximum of all four windows
    const m = makeOpModel({
      op: 'MaxPool',
      inputs: [{ name: 'X', kind: 'param', shape: [1, 1, 3, 3], values: [1, 2, 3, 4, 9, 5, 6, 7, 8] }],
      attrs: { kernel_shape: [2, 2] },
    });
    const R = m.weights[0];
    const { grads } = await computeGradients(m);
    expectClose(grads.X.data, [0, 0, 0, 0, R[0] + R[1] + R[2] + R[3], 0, 0, 0, 0], 1e-6, 'dX');
  });

  const cases: { label: string; x: number[]; attrs: PoolAttrs; opset?: number; indices?: boolean }[] = [
    { label: '2x2 stride 2', x: [2, 2, 4, 4], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
    { label: '3x3 stride 1 pads 1 (overlap)', x: [1, 2, 5, 5], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
    { label: '3x3 stride 2, remainder', x: [2, 1, 6, 7], attrs: { kernel_shape: [3, 3], strides: [2, 2] } },
    { label: 'ceil_mode, asymmetric pads', x: [1, 2, 6, 5], attrs: { kernel_shape: [3, 2], strides: [2, 2], pads: [1, 0, 0, 1], ceil_mode: 1 } },
    { label: 'with Indices output', x: [1, 2, 5, 5], attrs: { kernel_shape: [3, 3], strides: [2, 2] }, indices: true },
    { label: '1-D', x: [2, 3, 9], attrs: { kernel_shape: [3], strides: [2], pads: [1, 1] } },
    { label: 'dilations 2', x: [1, 2, 7, 6], attrs: { kernel_shape: [2, 2], dilations: [2, 2], pads: [1, 0, 0, 1] } },
    { label: '3-D', x: [1, 2, 4, 4, 3], attrs: { kernel_shape: [2, 2, 2], strides: [2, 2, 1] } },
    { label: 'opset 13, disjoint windows', x: [1, 2, 6, 6], attrs: { kernel_shape: [2, 3], strides: [2, 3] }, opset: 13 },
  ];

  it.each(cases)('passes a central-difference check: $label', async ({ label, x, attrs, opset, indices }) => {
    const m = makeOpModel({
      op: 'MaxPool',
      inputs: [{ name: 'X', kind: 'param', shape: x, values: distinctValues(numel(x)) }],
      attrs,
      opset,
      outputs: indices ? 2 : 1,
    });
    await checkGradients(m, { label, samplesPerParam: 12 });
    // The backward pass pools again only when the forward node has no Indices output.
    const { model } = await computeGradients(m);
    expect(model.graph.nodes.filter((n) => n.opType === 'MaxPool')).toHaveLength(indices ? 1 : 2);
  });

  it('refuses overlapping windows below opset 16', () => {
    const m = makeOpModel({ op: 'MaxPool', inputs: [{ name: 'X', kind: 'param', shape: [1, 1, 4, 4] }], attrs: { kernel_shape: [3, 3] }, opset: 13 });
    const g = m.model.graph;
    expect(() => buildBackward(m.model, { loss: g.requireValue('loss'), wrt: [g.requireValue('X')] })).toThrow(/opset 16.*opset 13/);
  });
});

describe('AveragePool gradient', () => {
  it('spreads dY / k evenly over each window (hand computed)', async () => {
    // y = AveragePool(X [1,1,2,4], k [2,2], stride 2) -> [1,1,1,2]
    const m = makeOpModel({ op: 'AveragePool', inputs: [{ name: 'X', kind: 'param', shape: [1, 1, 2, 4] }], attrs: { kernel_shape: [2, 2], strides: [2, 2] } });
    const [r0, r1] = m.weights[0];
    const { grads } = await computeGradients(m);
    expectClose(grads.X.data, [r0, r0, r1, r1, r0, r0, r1, r1].map((v) => v / 4), 1e-6, 'dX');
  });

  it('divides by the in-image count at padded borders when count_include_pad=0 (hand computed)', async () => {
    // y = AveragePool(X [1,1,1,3], k [1,2], pads [0,1,0,0]) -> windows {pad, x0}, {x0, x1}, {x1, x2}
    const m = makeOpModel({ op: 'AveragePool', inputs: [{ name: 'X', kind: 'param', shape: [1, 1, 1, 3] }], attrs: { kernel_shape: [1, 2], pads: [0, 1, 0, 0] } });
    const [r0, r1, r2] = m.weights[0];
    const { grads } = await computeGradients(m);
    expectClose(grads.X.data, [r0 + r1 / 2, r1 / 2 + r2 / 2, r2 / 2], 1e-6, 'dX');
  });

  const cases: { label: string; x: number[]; attrs: PoolAttrs }[] = [
    { label: '2x2 stride 2', x: [2, 2, 4, 4], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
    { label: '3x3 pads 1, count_include_pad=0', x: [1, 2, 5, 5], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
    { label: '3x3 pads 1, count_include_pad=1', x: [1, 2, 5, 5], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], count_include_pad: 1 } },
    { label: 'stride 2 remainder, asymmetric pads', x: [2, 1, 7, 6], attrs: { kernel_shape: [3, 2], strides: [2, 2], pads: [0, 1, 1, 0] } },
    { label: 'ceil_mode, count_include_pad=0', x: [1, 2, 6, 5], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 0, 0], ceil_mode: 1 } },
    { label: 'ceil_mode, count_include_pad=1', x: [1, 2, 6, 5], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 0], ceil_mode: 1, count_include_pad: 1 } },
    { label: '1-D', x: [2, 3, 8], attrs: { kernel_shape: [3], strides: [2], pads: [1, 1], count_include_pad: 1 } },
    { label: '3-D', x: [1, 2, 4, 3, 4], attrs: { kernel_shape: [2, 2, 2], strides: [2, 1, 2], pads: [1, 0, 0, 0, 1, 0] } },
  ];

  it.each(cases)('passes a central-difference check: $label', async ({ label, x, attrs }) => {
    const m = makeOpModel({ op: 'AveragePool', inputs: [{ name: 'X', kind: 'param', shape: x }], attrs });
    await checkGradients(m, { label, samplesPerParam: 12 });
  });
});

describe('GlobalAveragePool gradient', () => {
  it('gives every element dY / (H*W) (hand computed)', async () => {
    const m = makeOpModel({ op: 'GlobalAveragePool', inputs: [{ name: 'X', kind: 'param', shape: [1, 2, 2, 3] }] });
    const [r0, r1] = m.weights[0];
    const { grads } = await computeGradients(m);
    expectClose(grads.X.data, [...Array(6).fill(r0 / 6), ...Array(6).fill(r1 / 6)], 1e-6, 'dX');
  });

  it.each([[[2, 3, 4, 4]], [[2, 2, 5]], [[1, 2, 2, 3, 2]]])('passes a central-difference check: %j', async (x) => {
    const m = makeOpModel({ op: 'GlobalAveragePool', inputs: [{ name: 'X', kind: 'param', shape: x }] });
    await checkGradients(m, { samplesPerParam: 8 });
  });
});

describe('pooling gradients with sizes known only at run time', () => {
  it('AveragePool (ceil_mode, count_include_pad=0), MaxPool and GlobalAveragePool pass a central-difference check', async () => {
    // x: [N, 1, H, W] (symbolic, so every size below is known only at run time);
    // y = GlobalAveragePool(AveragePool(MaxPool(Conv(x, P)))); loss = ReduceSum(y * y)
    const model = newModel({ opset: 17 });
    const g = model.graph;
    const b = new GraphBuilder(g);
    const p = g.addInitializer(tensorProto('P', Float32Array.from(distinctValues(2 * 1 * 2 * 2, 9)), [2, 1, 2, 2]), { exactName: true });
    const x = g.addInput('x').setTensorType(DataType.FLOAT, ['N', 1, 'H', 'W']);
    const h = b.op('Conv', [x, p]);
    const pooled = b.op('MaxPool', [h], { kernel_shape: [2, 2], strides: [1, 1] });
    const averaged = b.op('AveragePool', [pooled], { kernel_shape: [3, 2], strides: [2, 2], pads: [1, 0, 1, 1], ceil_mode: 1 });
    const y = b.op('GlobalAveragePool', [averaged]);
    g.addOutput(b.identity(b.reduceSum(b.mul(y, y), undefined, false), 'loss'));
    const feeds = { x: floatTensor(Float32Array.from(distinctValues(2 * 8 * 7, 4)), [2, 1, 8, 7]) };
    // A small step: a perturbed P must not reorder the Conv outputs inside a MaxPool window.
    const results = await gradcheck({ model, loss: 'loss', feeds, eps: 1e-3 });
    expect(results[0].maxRelError).toBeLessThan(1e-2);
  });
});

describe('GlobalMaxPool gradient', () => {
  it('sends dY to exactly one maximum per plane, the first of a tie (hand computed)', async () => {
    // X [1,2,2,2]: plane 0 = [1, 3, 3, 0] (tie at 1 and 2), plane 1 = [5, 2, 2, 5] (tie at 0 and 3)
    const m = makeOpModel({ op: 'GlobalMaxPool', inputs: [{ name: 'X', kind: 'param', shape: [1, 2, 2, 2], values: [1, 3, 3, 0, 5, 2, 2, 5] }] });
    const [r0, r1] = m.weights[0];
    const { grads } = await computeGradients(m);
    expectClose(grads.X.data, [0, r0, 0, 0, r1, 0, 0, 0], 1e-6, 'dX');
  });

  it.each([[[2, 3, 4, 4]], [[2, 2, 5]], [[1, 2, 2, 3, 2]]])('passes a central-difference check: %j', async (x) => {
    const m = makeOpModel({ op: 'GlobalMaxPool', inputs: [{ name: 'X', kind: 'param', shape: x, values: distinctValues(numel(x)) }] });
    await checkGradients(m, { samplesPerParam: 10 });
  });
});
