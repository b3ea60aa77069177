import { describe, expect, it } from 'vitest';
import { buildBackward } from '../../../src/autodiff/backward.js';
import { MIN_FLIPPED_KERNEL_CHANNELS, MIN_IM2COL_CHANNELS } from '../../../src/autodiff/rules/conv.js';
import { gradcheck } from '../../../src/check/gradcheck.js';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { DataType } from '../../../src/ir/dtype.js';
import { newModel } from '../../../src/ir/model.js';
import { floatTensor } from '../../../src/ir/tensor.js';
import { modelFromBytes, modelToBytes } from '../../../src/model-io.js';
import { int64Tensor } from '../../../src/runtime/tensors.js';
import { Rng } from '../../../src/util/rng.js';
import { checkGradients, computeGradients, expectClose, makeOpModel, type OpInput } from '../helpers.js';

describe('Conv gradient', () => {
  it('matches a hand computation on a 3x3 image and a 2x2 kernel', async () => {
    // y = Conv(X [1,1,3,3], W [1,1,2,2], B [1]); loss = sum(y * R), R [1,1,2,2]
    const x = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    const w = [1, -1, 2, 0.5];
    const m = makeOpModel({
      op: 'Conv',
      inputs: [
        { name: 'X', kind: 'param', shape: [1, 1, 3, 3], values: x },
        { name: 'W', kind: 'param', shape: [1, 1, 2, 2], values: w },
        { name: 'B', kind: 'param', shape: [1], values: [0.3] },
      ],
    });
    const R = m.weights[0];
    const { grads } = await computeGradients(m);
    // dW[a,b] = sum_{i,j} R[i,j] * X[i+a, j+b]; dB = sum R; dX[p,q] = sum_{i,j} R[i,j] * W[p-i, q-j]
    const dW = [0, 1, 2, 3].map((t) => {
      const [a, b] = [Math.floor(t / 2), t % 2];
      let s = 0;
      for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) s += R[i * 2 + j] * x[(i + a) * 3 + j + b];
      return s;
    });
    const dX = Array.from({ length: 9 }, (_, t) => {
      const [p, q] = [Math.floor(t / 3), t % 3];
      let s = 0;
      for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) {
        const [a, b] = [p - i, q - j];
        if (a >= 0 && a < 2 && b >= 0 && b < 2) s += R[i * 2 + j] * w[a * 2 + b];
      }
      return s;
    });
    expectClose(grads.W.data, dW, 1e-5, 'dW');
    expectClose(grads.X.data, dX, 1e-5, 'dX');
    expectClose(grads.B.data, [R.reduce((a, b) => a + b, 0)], 1e-5, 'dB');
    expect(grads.X.dims).toEqual([1, 1, 3, 3]);
  });

  // Each case: input [N, C, *S], weight [M, C/g, *k] and attributes. Strides that leave a remainder
  // ((S + pads - keff) % stride != 0) check that dX keeps X's exact shape.
  const cases: { label: string; x: number[]; w: number[]; attrs?: Record<string, number | number[] | string>; bias?: boolean }[] = [
    { label: '2-D plain + bias', x: [2, 3, 5, 5], w: [4, 3, 3, 3], bias: true },
    { label: 'stride 2, remainder', x: [1, 2, 6, 7], w: [3, 2, 3, 3], attrs: { strides: [2, 2] } },
    { label: 'stride 3, asymmetric pads', x: [1, 2, 7, 6], w: [2, 2, 2, 3], attrs: { strides: [3, 2], pads: [1, 0, 2, 1] } },
    { label: 'dilations 2, pads', x: [1, 1, 7, 7], w: [2, 1, 3, 3], attrs: { dilations: [2, 2], pads: [1, 1, 1, 1] } },
    { label: 'dilation + stride', x: [2, 2, 8, 7], w: [2, 2, 2, 2], attrs: { dilations: [2, 3], strides: [2, 2], pads: [0, 1, 1, 0] } },
    { label: 'groups 2 + bias', x: [2, 4, 5, 5], w: [6, 2, 3, 3], attrs: { group: 2, strides: [2, 2], pads: [1, 1, 1, 1] }, bias: true },
    { label: 'depthwise', x: [2, 3, 6, 6], w: [3, 1, 3, 3], attrs: { group: 3, pads: [1, 1, 1, 1] } },
    { label: 'depthwise x2, stride 2', x: [1, 2, 7, 7], w: [4, 1, 3, 3], attrs: { group: 2, strides: [2, 2] } },
    { label: '1-D', x: [2, 2, 9], w: [3, 2, 3], attrs: { strides: [2], pads: [1, 0], dilations: [2] }, bias: true },
    { label: '3-D', x: [1, 2, 4, 4, 3], w: [2, 2, 2, 2, 2], attrs: { strides: [2, 1, 2], pads: [1, 0, 0, 1, 1, 0] } },
    { label: 'auto_pad VALID', x: [1, 2, 5, 5], w: [2, 2, 3, 3], attrs: { strides: [2, 2], auto_pad: 'VALID' } },
    // Stride 1, one group and 8 or more input channels: dX is a Conv of the flipped kernel (flippedKernelPads),
    // except where a pad is wider than the dilated window; with fewer channels, a ConvTranspose.
    { label: 'stride 1, asymmetric pads, 2x3 kernel', x: [2, 8, 6, 5], w: [4, 8, 2, 3], attrs: { pads: [1, 0, 0, 2] } },
    { label: 'stride 1, 1x1 kernel', x: [2, 8, 4, 4], w: [5, 8, 1, 1] },
    { label: 'stride 1, 1-D, dilation 3', x: [2, 8, 11], w: [3, 8, 3], attrs: { dilations: [3], pads: [2, 5] } },
    { label: 'stride 1, 3-D', x: [1, 8, 4, 3, 4], w: [2, 8, 2, 2, 3], attrs: { pads: [0, 1, 1, 1, 0, 1] } },
    { label: 'stride 1, a pad wider than the window', x: [1, 8, 4, 4], w: [3, 8, 1, 1], attrs: { pads: [1, 1, 1, 1] } },
    { label: 'stride 1, 3 channels', x: [2, 3, 6, 5], w: [4, 3, 2, 3], attrs: { pads: [1, 0, 0, 2] } },
    // 16 or more input channels and at most 9 taps: dW is one Gemm over im2col columns (im2colWeightGradPlan).
    { label: 'im2col dW, 3x3, pads 1', x: [2, 16, 5, 5], w: [3, 16, 3, 3], attrs: { pads: [1, 1, 1, 1] }, bias: true },
    { label: 'im2col dW, strides, dilations, asymmetric pads', x: [2, 16, 7, 6], w: [2, 16, 2, 3], attrs: { strides: [2, 1], dilations: [1, 2], pads: [1, 0, 0, 2] } },
    { label: 'im2col dW, 1x1 stride 2', x: [3, 16, 5, 4], w: [4, 16, 1, 1], attrs: { strides: [2, 2] } },
  ];

  it.each(cases)('passes a central-difference check: $label', async ({ label, x, w, attrs, bias }) => {
    const inputs: OpInput[] = [
      { name: 'X', kind: 'param', shape: x },
      { name: 'W', kind: 'param', shape: w },
    ];
    if (bias) inputs.push({ name: 'B', kind: 'param', shape: [w[0]] });
    const m = makeOpModel({ op: 'Conv', inputs, attrs });
    await checkGradients(m, { label, samplesPerParam: 8 });
  });

  it('builds no gradient for the data input', async () => {
    const m = makeOpModel({
      op: 'Conv',
      inputs: [
        { name: 'X', kind: 'input', shape: [1, 2, 4, 4] },
        { name: 'W', kind: 'param', shape: [2, 2, 3, 3] },
      ],
    });
    const { model } = await computeGradients(m);
    expect(model.graph.nodes.filter((n) => n.opType === 'ConvTranspose')).toHaveLength(0);
  });

  it('keeps X exact when the input sizes are known only at run time', async () => {
    // h = Reshape(P, S) with S fed at run time (no static shape), y = Conv(h, W, stride 2, remainder 1);
    // loss = ReduceSum(y * y)
    const model = newModel({ opset: 17 });
    const g = model.graph;
    const b = new GraphBuilder(g);
    const rng = new Rng(5);
    const init = (name: string, dims: number[]) => {
      const data = Float32Array.from({ length: dims.reduce((a, n) => a * n, 1) }, () => rng.uniform(-1, 1));
      return g.addInitializer(floatTensor(name, data, dims), { exactName: true });
    };
    const shape = g.addInput('S').setTensorType(DataType.INT64, [4]);
    const h = b.op('Reshape', [init('P', [1, 128]), shape]);
    const y = b.op('Conv', [h, init('W', [3, 2, 3, 3])], { strides: [2, 2], pads: [0, 1, 0, 0] });
    g.addOutput(b.identity(b.reduceSum(b.mul(y, y), undefined, false), 'loss'));
    const feeds = { S: int64Tensor(BigInt64Array.from([1n, 2n, 8n, 8n]), [4]) };

    const copy = modelFromBytes(modelToBytes(model));
    buildBackward(copy, { loss: copy.graph.requireValue('loss'), wrt: ['P', 'W'].map((n) => copy.graph.requireValue(n)) });
    expect(copy.graph.nodes.some((n) => n.opType === 'ConvTranspose' && n.output(0).uses.some((u) => u.node.opType === 'Slice'))).toBe(true);
    const results = await gradcheck({ model, loss: 'loss', feeds, samplesPerParam: 8 });
    for (const r of results) expect(r.maxRelError, r.param).toBeLessThan(1e-2);
  });

  it('takes dW as one Gemm over im2col columns with one group, 16 channels or more and at most 9 taps, as a Conv otherwise', () => {
    const dwOps = (x: number[], w: number[], attrs: Record<string, number | number[]> = {}) => {
      const model = newModel({ opset: 17 });
      const g = model.graph;
      const b = new GraphBuilder(g);
      const input = g.addInput('X').setTensorType(DataType.FLOAT, x);
      const weight = g.addInitializer(floatTensor('W', new Float32Array(w.reduce((a, n) => a * n, 1)).fill(0.5), w), { exactName: true });
      const y = b.op('Conv', [input, weight], attrs);
      g.addOutput(b.identity(b.reduceSum(b.mul(y, y), undefined, false), 'loss'));
      buildBackward(model, { loss: g.requireValue('loss'), wrt: [weight] });
      return g.nodes.map((n) => n.opType).filter((op) => op === 'Conv' || op === 'Gemm');
    };
    expect(dwOps([2, MIN_IM2COL_CHANNELS, 6, 6], [4, MIN_IM2COL_CHANNELS, 3, 3], { pads: [1, 1, 1, 1] })).toEqual(['Conv', 'Gemm']);
    expect(dwOps([2, MIN_IM2COL_CHANNELS - 1, 6, 6], [4, MIN_IM2COL_CHANNELS - 1, 3, 3])).toEqual(['Conv', 'Conv']);
    // 16 taps > MAX_IM2COL_TAPS; two groups.
    expect(dwOps([2, 16, 6, 6], [4, 16, 4, 4])).toEqual(['Conv', 'Conv']);
    expect(dwOps([2, 32, 6, 6], [4, 16, 3, 3], { group: 2 })).toEqual(['Conv', 'Conv']);
  });

  it('takes dX as a Conv of the flipped kernel with stride 1, one group and 8 channels or more, as a ConvTranspose otherwise', () => {
    const dxOps = (attrs: Record<string, number | number[]>, w: number[], channels = MIN_FLIPPED_KERNEL_CHANNELS) => {
      const model = newModel({ opset: 17 });
      const g = model.graph;
      const b = new GraphBuilder(g);
      const x = g.addInput('X').setTensorType(DataType.FLOAT, [1, channels, 6, 6]);
      const p = g.addInitializer(floatTensor('P', new Float32Array(channels).fill(1), [1, channels, 1, 1]), { exactName: true });
      const weight = g.addInitializer(floatTensor('W', new Float32Array(w.reduce((a, n) => a * n, 1)).fill(0.5), w), { exactName: true });
      const y = b.op('Conv', [b.mul(x, p), weight], attrs);
      g.addOutput(b.identity(b.reduceSum(b.mul(y, y), undefined, false), 'loss'));
      buildBackward(model, { loss: g.requireValue('loss'), wrt: [p] });
      return g.nodes.map((n) => n.opType).filter((op) => op === 'Conv' || op === 'ConvTranspose');
    };
    expect(dxOps({ pads: [1, 1, 1, 1] }, [2, 8, 3, 3])).toEqual(['Conv', 'Conv']);
    expect(dxOps({ pads: [1, 1, 1, 1] }, [2, 7, 3, 3], 7)).toEqual(['Conv', 'ConvTranspose']);
    expect(dxOps({ strides: [2, 2] }, [2, 8, 3, 3])).toEqual(['Conv', 'ConvTranspose']);
    expect(dxOps({ group: 2 }, [2, 4, 3, 3])).toEqual(['Conv', 'ConvTranspose']);
  });
});
