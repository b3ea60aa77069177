// conv-as-gemm: a Conv with few output positions per image becomes im2col + Gemm in the training step. The rewritten
// graph must compute the same outputs and gradients as the Conv (onnxruntime runs both), its gradients must pass
// finite differences, and only the Convs the rule names are rewritten.
import { describe, expect, it } from 'vitest';
import { compileTrainStep } from '../../src/compile/compile.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { cloneModel } from '../../src/ir/clone.js';
import { DataType } from '../../src/ir/dtype.js';
import { newModel } from '../../src/ir/model.js';
import { modelToBytes } from '../../src/model-io.js';
import { convsAsGemm } from '../../src/passes/conv-as-gemm.js';
import { createSession } from '../../src/runtime/session.js';
import { checkGradients, computeGradients, expectClose, makeOpModel, type OpModel } from '../autodiff/helpers.js';

interface ConvCase {
  label: string;
  x: number[];
  w: number[];
  attrs?: Record<string, number | number[] | string>;
  bias?: boolean;
}

// Outputs of 1 to 16 positions per image and at least as many filters as input pixels: the shapes of a ResNet's last
// stages, with each attribute exercised.
const CASES: ConvCase[] = [
  { label: '3x3, pads 1, 2x2 image (a ResNet layer3 on 32x32)', x: [3, 4, 2, 2], w: [5, 4, 3, 3], attrs: { pads: [1, 1, 1, 1] }, bias: true },
  { label: '3x3 on 1x1 with pads 1 (only the centre tap sees data)', x: [4, 3, 1, 1], w: [2, 3, 3, 3], attrs: { pads: [1, 1, 1, 1] } },
  { label: 'stride 2, remainder', x: [2, 2, 5, 6], w: [30, 2, 3, 3], attrs: { strides: [2, 2] } },
  { label: '1x1, stride 2 (a downsample)', x: [2, 6, 4, 4], w: [16, 6, 1, 1], attrs: { strides: [2, 2] }, bias: true },
  { label: 'dilations, asymmetric pads', x: [2, 2, 5, 5], w: [25, 2, 2, 3], attrs: { dilations: [2, 1], pads: [1, 0, 0, 2], strides: [1, 2] } },
  { label: 'auto_pad VALID', x: [1, 3, 4, 5], w: [20, 3, 2, 2], attrs: { auto_pad: 'VALID', strides: [2, 2] } },
];

function convModel(c: ConvCase): OpModel {
  return makeOpModel({
    op: 'Conv',
    inputs: [
      { name: 'X', kind: 'param', shape: c.x },
      { name: 'W', kind: 'param', shape: c.w },
      ...(c.bias ? [{ name: 'B', kind: 'param' as const, shape: [c.w[0]] }] : []),
    ],
    attrs: c.attrs,
  });
}

function rewritten(m: OpModel): OpModel {
  const model = cloneModel(m.model);
  expect(convsAsGemm(model)).toEqual(['conv']);
  expect(model.graph.nodes.some((n) => n.opType === 'Conv')).toBe(false);
  return { ...m, model };
}

async function run(m: OpModel): Promise<Float32Array> {
  const session = await createSession(modelToBytes(m.model), { name: 'conv-as-gemm test' });
  try {
    return (await session.run(m.feeds))[m.loss].data as Float32Array;
  } finally {
    await session.release();
  }
}

describe('convsAsGemm', () => {
  for (const c of CASES) {
    it(`gives the Conv's loss and gradients, and passes finite differences: ${c.label}`, async () => {
      const original = convModel(c);
      const gemm = rewritten(original);
      expectClose(await run(gemm), await run(original), 1e-5, 'loss');
      const [want, got] = [await computeGradients(original), await computeGradients(gemm)];
      for (const p of original.params) expectClose(got.grads[p].data, want.grads[p].data, 1e-5, `d${p}`);
      await checkGradients(gemm, { label: c.label });
    });
  }

  it('leaves a Conv alone when its output has more positions than the limit, fewer filters than input pixels, or attributes it does not cover', () => {
    const wide = convModel({ label: '5x5 out', x: [1, 2, 5, 5], w: [25, 2, 1, 1] });
    expect(convsAsGemm(wide.model)).toEqual([]);
    expect(convsAsGemm(wide.model, 25)).toEqual(['conv']);
    // The selection would cost more than the Gemm: 16 input pixels for 8 filters.
    const fewFilters = convModel({ label: 'H*W > M', x: [2, 3, 4, 4], w: [8, 3, 3, 3], attrs: { strides: [2, 2] } });
    expect(convsAsGemm(fewFilters.model)).toEqual([]);
    const grouped = convModel({ label: 'groups', x: [1, 4, 2, 2], w: [4, 2, 1, 1], attrs: { group: 2 } });
    expect(convsAsGemm(grouped.model)).toEqual([]);
    const same = convModel({ label: 'SAME', x: [1, 2, 2, 2], w: [4, 2, 3, 3], attrs: { auto_pad: 'SAME_UPPER' } });
    expect(convsAsGemm(same.model)).toEqual([]);
  });

  it('is applied by compileTrainStep for CPU only, which names the Convs it rewrote; the model keeps its Conv', () => {
    // x [N, 4, 2, 2] -> Conv 3x3 pads 1 (4 positions, 8 filters) -> Flatten -> Gemm -> logits [N, 10]
    const model = newModel();
    const g = model.graph;
    const b = new GraphBuilder(g);
    const x = g.addInput('x').setTensorType(DataType.FLOAT, ['N', 4, 2, 2]);
    const conv = b.op('Conv', [x, b.floatInit('w', new Array(8 * 4 * 9).fill(0.1), [8, 4, 3, 3])], { pads: [1, 1, 1, 1] }, { name: 'c1' });
    const logits = b.op('Gemm', [b.op('Flatten', [conv]), b.floatInit('fc', new Array(10 * 32).fill(0.01), [10, 32])], { transB: 1 }, { output: 'logits' });
    logits.setTensorType(DataType.FLOAT, ['N', 10]);
    g.addOutput(logits);
    const cpu = compileTrainStep(model, { loss: 'cross-entropy', optimizer: 'sgd' });
    expect(cpu.convsAsGemm).toEqual(['c1']);
    expect(cpu.model.graph.nodes.some((n) => n.opType === 'Conv' && n.name === 'c1')).toBe(false);
    expect(model.graph.nodes.some((n) => n.opType === 'Conv')).toBe(true);
    const gpu = compileTrainStep(model, { loss: 'cross-entropy', optimizer: 'sgd', provider: 'cuda' });
    expect(gpu.convsAsGemm).toEqual([]);
    expect(gpu.model.graph.nodes.some((n) => n.opType === 'Conv' && n.name === 'c1')).toBe(true);
  });
});
