import { describe, expect, it } from 'vitest';
import { gradcheck } from '../../../src/check/gradcheck.js';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { DataType } from '../../../src/ir/dtype.js';
import { newModel } from '../../../src/ir/model.js';
import { inferShapes } from '../../../src/ir/shape/infer.js';
import { floatTensor as tensorProto } from '../../../src/ir/tensor.js';
import { floatTensor } from '../../../src/runtime/tensors.js';
import { buildBackwardOf, checkGradients, computeGradients, distinctValues, expectClose, makeOpModel, type OpInput, sum } from '../helpers.js';

describe('ConvTranspose gradient', () => {
  it('matches a hand computation (1-D, stride 2, bias)', async () => {
    // y = ConvTranspose(X [1,1,2], W [1,1,2], B, stride 2) = [x0 w0, x0 w1, x1 w0, x1 w1] + B
    const m = makeOpModel({
      op: 'ConvTranspose',
      inputs: [
        { name: 'X', kind: 'param', shape: [1, 1, 2], values: [2, -3] },
        { name: 'W', kind: 'param', shape: [1, 1, 2], values: [0.5, 4] },
        { name: 'B', kind: 'param', shape: [1], values: [0.1] },
      ],
      attrs: { strides: [2] },
    });
    const R = m.weights[0];
    const { grads } = await computeGradients(m);
    expectClose(grads.X.data, [R[0] * 0.5 + R[1] * 4, R[2] * 0.5 + R[3] * 4], 1e-5, 'dX');
    expectClose(grads.W.data, [2 * R[0] - 3 * R[2], 2 * R[1] - 3 * R[3]], 1e-5, 'dW');
    expectClose(grads.B.data, [sum(R)], 1e-5, 'dB');
  });

  // Each case: input [N, C, *S], weight [C, M/g, *k]. output_padding >= dilation exercises the cut of dW to k.
  const cases: { label: string; x: number[]; w: number[]; attrs?: Record<string, number | number[]>; bias?: boolean }[] = [
    { label: '2-D plain + bias', x: [2, 3, 4, 4], w: [3, 2, 3, 3], bias: true },
    { label: 'stride 2, pads', x: [1, 2, 3, 4], w: [2, 3, 3, 3], attrs: { strides: [2, 2], pads: [1, 1, 1, 1] } },
    { label: 'stride 2, output_padding 1', x: [2, 2, 3, 3], w: [2, 2, 3, 3], attrs: { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] }, bias: true },
    { label: 'stride 3, output_padding 2 (>= dilation)', x: [1, 2, 3, 2], w: [2, 1, 2, 3], attrs: { strides: [3, 2], output_padding: [2, 1], pads: [0, 1, 1, 0] } },
    { label: 'dilations + stride, asymmetric pads', x: [1, 2, 4, 3], w: [2, 2, 2, 3], attrs: { strides: [2, 1], dilations: [2, 2], pads: [1, 0, 0, 2] } },
    { label: 'groups 2 + bias', x: [2, 4, 3, 3], w: [4, 3, 2, 2], attrs: { group: 2, strides: [2, 2] }, bias: true },
    { label: 'depthwise, output_padding', x: [1, 3, 4, 4], w: [3, 1, 3, 3], attrs: { group: 3, strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 0] } },
    { label: '1-D', x: [2, 2, 5], w: [2, 3, 3], attrs: { strides: [2], pads: [1, 0], dilations: [2] }, bias: true },
    { label: '3-D', x: [1, 2, 2, 3, 2], w: [2, 2, 2, 2, 2], attrs: { strides: [2, 1, 2], pads: [1, 0, 0, 0, 1, 0], output_padding: [1, 0, 1] } },
  ];

  it.each(cases)('passes a central-difference check: $label', async ({ label, x, w, attrs, bias }) => {
    const inputs: OpInput[] = [
      { name: 'X', kind: 'param', shape: x },
      { name: 'W', kind: 'param', shape: w },
    ];
    if (bias) inputs.push({ name: 'B', kind: 'param', shape: [w[1] * ((attrs?.group as number | undefined) ?? 1)] });
    const m = makeOpModel({ op: 'ConvTranspose', inputs, attrs });
    await checkGradients(m, { label, samplesPerParam: 8 });
  });

  it('infers the output shape from strides, pads, dilations, output_padding and groups', () => {
    const model = newModel({ opset: 17 });
    const g = model.graph;
    const b = new GraphBuilder(g);
    const x = g.addInput('x').setTensorType(DataType.FLOAT, ['N', 4, 5, 6]);
    const w = g.addInitializer(tensorProto('W', new Float32Array(4 * 3 * 3 * 2), [4, 3, 3, 2]), { exactName: true });
    const y = b.op('ConvTranspose', [x, w], { group: 2, strides: [2, 3], dilations: [2, 1], pads: [1, 0, 2, 1], output_padding: [1, 2] });
    inferShapes(g);
    // H: (5-1)*2 + 1 + (3-1)*2 + 1 - 1 - 2 = 11; W: (6-1)*3 + 2 + (2-1)*1 + 1 - 0 - 1 = 18
    expect(y.shape).toEqual(['N', 6, 11, 18]);
  });

  it('works with sizes known only at run time', async () => {
    // x [N, 2, H, W] symbolic; y = ConvTranspose(x, P, stride 2, output_padding 1); loss = sum(y * y)
    const model = newModel({ opset: 17 });
    const g = model.graph;
    const b = new GraphBuilder(g);
    const p = g.addInitializer(tensorProto('P', Float32Array.from(distinctValues(2 * 3 * 2 * 2, 11)), [2, 3, 2, 2]), { exactName: true });
    const x = g.addInput('x').setTensorType(DataType.FLOAT, ['N', 2, 'H', 'W']);
    const y = b.op('ConvTranspose', [x, p], { strides: [2, 2], output_padding: [1, 1], pads: [0, 1, 1, 0] });
    g.addOutput(b.identity(b.reduceSum(b.mul(y, y), undefined, false), 'loss'));
    const feeds = { x: floatTensor(Float32Array.from(distinctValues(2 * 2 * 3 * 4, 12)), [2, 2, 3, 4]) };
    const [result] = await gradcheck({ model, loss: 'loss', feeds });
    expect(result.maxRelError).toBeLessThan(1e-2);
  });

  it('builds no gradient for the data input', async () => {
    const m = makeOpModel({
      op: 'ConvTranspose',
      inputs: [
        { name: 'X', kind: 'input', shape: [1, 2, 3, 3] },
        { name: 'W', kind: 'param', shape: [2, 2, 2, 2] },
      ],
      attrs: { strides: [2, 2] },
    });
    const { model, grads } = await computeGradients(m);
    expect(Object.keys(grads)).toEqual(['W']);
    // Only the weight gradient's Conv: the Conv(dY, W) that would give dX is not built.
    expect(model.graph.nodes.filter((n) => n.opType === 'Conv')).toHaveLength(1);
  });

  it('refuses output_shape, naming the attribute', () => {
    const m = makeOpModel({
      op: 'ConvTranspose',
      inputs: [
        { name: 'X', kind: 'param', shape: [1, 1, 3, 3] },
        { name: 'W', kind: 'param', shape: [1, 1, 2, 2] },
      ],
      attrs: { strides: [2, 2], output_shape: [7, 7] },
    });
    expect(() => buildBackwardOf(m)).toThrow(/output_shape is not supported/);
  });
});
