import { fromBinary } from '@bufbuild/protobuf';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TensorProtoSchema } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { buildBackward } from '../../../src/autodiff/backward.js';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { constantInts } from '../../../src/ir/constant.js';
import { DataType } from '../../../src/ir/dtype.js';
import { newModel } from '../../../src/ir/model.js';
import { inferShapes } from '../../../src/ir/shape/infer.js';
import { floatTensor, tensorDims, tensorToFloat32 } from '../../../src/ir/tensor.js';
import { modelFromBytes, modelToBytes } from '../../../src/model-io.js';
import { upgradeOpset } from '../../../src/passes/upgrade-opset.js';
import { createSession } from '../../../src/runtime/session.js';
import { floatTensor as ortFloat } from '../../../src/runtime/tensors.js';
import { compileTrainStep } from '../../../src/compile/compile.js';
import { Rng } from '../../../src/util/rng.js';
import { buildBackwardOf, checkGradients, computeGradients, expectClose, makeOpModel, type OpInput, type OpModel, sum } from '../helpers.js';

describe('Pad gradient', () => {
  it('passes dY back from the region X was copied to, and the rest to the constant (hand computed)', async () => {
    // y = Pad(X [1,1,2,2], pads: one row on top, one column on the right, c) -> [1,1,3,3]
    const m = makeOpModel({
      op: 'Pad',
      inputs: [
        { name: 'X', kind: 'param', shape: [1, 1, 2, 2], values: [1, 2, 3, 4] },
        { name: 'pads', kind: 'int', shape: [8], values: [0, 0, 1, 0, 0, 0, 0, 1] },
        { name: 'c', kind: 'param', shape: [], values: [0.5] },
      ],
    });
    const R = m.weights[0];
    const { grads } = await computeGradients(m);
    expectClose(grads.X.data, [R[3], R[4], R[6], R[7]], 1e-6, 'dX');
    expectClose(grads.c.data, [sum(R) - R[3] - R[4] - R[6] - R[7]], 1e-5, 'dc');
    expect(grads.X.dims).toEqual([1, 1, 2, 2]);
  });

  it('gives zeros to the elements a negative pad cropped away (hand computed)', async () => {
    // y = Pad(X [1,4], pads [0,-1, 0,1]) = [x1, x2, x3, 0]
    const m = makeOpModel({
      op: 'Pad',
      inputs: [
        { name: 'X', kind: 'param', shape: [1, 4] },
        { name: 'pads', kind: 'int', shape: [4], values: [0, -1, 0, 1] },
      ],
    });
    const R = m.weights[0];
    const { grads } = await computeGradients(m);
    expectClose(grads.X.data, [0, R[0], R[1], R[2]], 1e-6, 'dX');
  });

  const cases: { label: string; x: number[]; pads: number[]; opset?: number; axes?: number[]; constant?: boolean }[] = [
    { label: 'spatial pads, opset 11', x: [2, 3, 4, 5], pads: [0, 0, 1, 2, 0, 0, 2, 1], opset: 11 },
    { label: 'every axis + constant, opset 13', x: [2, 3, 3], pads: [1, 0, 2, 0, 1, 1], opset: 13, constant: true },
    { label: 'negative and positive mixed', x: [2, 3, 5, 4], pads: [0, 1, -1, 2, 0, -1, 2, -2], constant: true },
    { label: 'only cropping', x: [3, 6], pads: [-1, -2, 0, -1] },
    { label: 'axes input, opset 18', x: [2, 3, 4, 5], pads: [1, -1, 2, 1], opset: 18, axes: [-1, 1], constant: true },
    { label: 'pads attribute, opset 10', x: [1, 2, 3, 3], pads: [0, 0, 1, 1, 0, 0, 0, 2], opset: 10 },
  ];

  it.each(cases)('passes a central-difference check: $label', async ({ label, x, pads, opset, axes, constant }) => {
    const old = (opset ?? 17) < 11;
    const inputs: OpInput[] = [{ name: 'X', kind: 'param', shape: x }];
    if (!old) {
      inputs.push({ name: 'pads', kind: 'int', shape: [pads.length], values: pads });
      inputs.push(constant || axes ? { name: 'c', kind: constant ? 'param' : 'absent', shape: [], values: constant ? [0.3] : undefined } : { name: 'c', kind: 'absent' });
      if (axes) inputs.push({ name: 'axes', kind: 'int', shape: [axes.length], values: axes });
    }
    const m = makeOpModel({ op: 'Pad', inputs, attrs: old ? { pads } : {}, opset });
    await checkGradients(m, { label, samplesPerParam: 10 });
  });

  it('refuses pads computed at run time, naming the tensor', () => {
    const m = makeOpModel({
      op: 'Pad',
      inputs: [
        { name: 'X', kind: 'param', shape: [1, 4] },
        { name: 'pads', kind: 'int', shape: [4], values: [0, 1, 0, 1] },
      ],
    });
    // pads fed at run time: nothing the rule can read (an Identity of the constant, by contrast, is folded)
    const g = m.model.graph;
    const pad = g.nodes.find((n) => n.opType === 'Pad')!;
    pad.setInput(1, g.addInput('runtime_pads').setTensorType(DataType.INT64, [4]));
    expect(() => buildBackwardOf(m)).toThrow(/pads 'runtime_pads' are computed at run time/);
  });

  // reflect, edge and wrap have their own tests (the copying-mode describes below); a mode ONNX does not define is refused.
  it('refuses modes ONNX does not define, naming the mode', () => {
    const m = makeOpModel({
      op: 'Pad',
      inputs: [
        { name: 'X', kind: 'param', shape: [1, 1, 3, 3] },
        { name: 'pads', kind: 'int', shape: [8], values: [0, 0, 1, 1, 0, 0, 1, 1] },
      ],
      attrs: { mode: 'symmetric' },
    });
    expect(() => buildBackwardOf(m)).toThrow(/Pad node .*'pad'.*Pad mode 'symmetric' is not an ONNX Pad mode/);
  });
});

// Pad's gradient in the modes that copy X into the border: 'reflect' (PyTorch's ReflectionPad*), 'edge'
// (ReplicationPad*) and 'wrap' (opset 19, CircularPad*). Each padded element's dY goes back to the X element it was
// copied from, on top of the centre of dY.
type Mode = 'reflect' | 'edge' | 'wrap';

/** wrap exists from opset 19 on; the other modes are tested at the exporters' usual opset. */
const opsetFor = (mode: Mode) => (mode === 'wrap' ? 19 : 17);

/** y = Pad(X, pads) in `mode`; pads as an input from opset 11, as an attribute before. */
function padModel(mode: Mode, x: OpInput, pads: number[], opts: { opset?: number; axes?: number[]; constant?: boolean } = {}): OpModel {
  const opset = opts.opset ?? opsetFor(mode);
  const inputs: OpInput[] = [x];
  if (opset >= 11) {
    inputs.push({ name: 'pads', kind: 'int', shape: [pads.length], values: pads });
    inputs.push(opts.constant ? { name: 'c', kind: 'param', shape: [], values: [0.7] } : { name: 'c', kind: 'absent' });
    if (opts.axes) inputs.push({ name: 'axes', kind: 'int', shape: [opts.axes.length], values: opts.axes });
  }
  return makeOpModel({ op: 'Pad', inputs, attrs: opset >= 11 ? { mode } : { mode, pads }, opset });
}

/** Replaces the loss weight R (= dY) with chosen values. */
function setDy(m: OpModel, dy: number[]): void {
  const g = m.model.graph;
  const r = g.requireValue('R0');
  g.setInitializer(r, floatTensor('R0', dy, r.initializer!.dims.map(Number)));
}

describe('Pad gradient, copying modes (hand computed)', () => {
  // x = [1, 2, 3, 4] padded by (2, 1) on its last axis; dY = powers of two, so every sum names its terms.
  const dy = [1, 2, 4, 8, 16, 32, 64];
  const hand: { mode: Mode; y: number[]; dx: number[] }[] = [
    // y = [x2, x1 | x0 x1 x2 x3 | x2]
    { mode: 'reflect', y: [3, 2, 1, 2, 3, 4, 3], dx: [4, 2 + 8, 1 + 16 + 64, 32] },
    // y = [x0, x0 | x0 x1 x2 x3 | x3]
    { mode: 'edge', y: [1, 1, 1, 2, 3, 4, 4], dx: [1 + 2 + 4, 8, 16, 32 + 64] },
    // y = [x2, x3 | x0 x1 x2 x3 | x0]
    { mode: 'wrap', y: [3, 4, 1, 2, 3, 4, 1], dx: [4 + 64, 8, 1 + 16, 2 + 32] },
  ];

  it.each(hand)('$mode: dX = centre of dY + each border element onto its source', async ({ mode, y, dx }) => {
    const m = padModel(mode, { name: 'X', kind: 'param', shape: [1, 4], values: [1, 2, 3, 4] }, [0, 2, 0, 1]);
    setDy(m, dy);
    const { grads, fetched } = await computeGradients(m, { fetch: ['y'] });
    // The forward pass in onnxruntime is the one these dX are computed for.
    expectClose(fetched.y.data as Float32Array, y, 0, `${mode} y`);
    expectClose(grads.X.data, dx, 0, `${mode} dX`);
    expect(grads.X.dims).toEqual([1, 4]);
  });

  it('gives the constant no gradient: it fills nothing in these modes', async () => {
    const m = padModel('reflect', { name: 'X', kind: 'param', shape: [1, 4], values: [1, 2, 3, 4] }, [0, 2, 0, 1], { constant: true });
    setDy(m, dy);
    const { grads } = await computeGradients(m);
    expectClose(grads.c.data, [0], 0, 'dc');
    expectClose(grads.X.data, [4, 10, 81, 32], 0, 'dX');
  });
});

describe('Pad gradient, copying modes (central differences)', () => {
  const cases: { label: string; x: number[]; pads: number[]; modes: Mode[]; opset?: number; axes?: number[] }[] = [
    { label: '4-D, H (1,2) and W (2,0)', x: [2, 3, 5, 6], pads: [0, 0, 1, 2, 0, 0, 2, 0], modes: ['reflect', 'edge', 'wrap'] },
    { label: '1-D, (3,4) = up to n-1', x: [5], pads: [3, 4], modes: ['reflect', 'edge', 'wrap'] },
    { label: '1-D, (5,2): a begin pad of the whole axis', x: [5], pads: [5, 2], modes: ['edge', 'wrap'] },
    { label: '1-D, (7,9): edge past the axis size', x: [3], pads: [7, 9], modes: ['edge'] },
    { label: '3-D, channel axis too', x: [2, 4, 3], pads: [0, 2, 1, 1, 1, 2], modes: ['reflect', 'edge', 'wrap'] },
    { label: '4-D, every axis', x: [2, 3, 3, 4], pads: [1, 0, 2, 1, 0, 2, 1, 3], modes: ['reflect', 'edge', 'wrap'] },
    { label: '4-D, pads input, opset 11', x: [1, 2, 4, 5], pads: [0, 0, 3, 1, 0, 0, 2, 4], modes: ['reflect', 'edge'], opset: 11 },
    { label: '4-D, axes input, opset 18', x: [2, 3, 4, 5], pads: [1, 2, 3, 0], modes: ['reflect', 'edge'], opset: 18, axes: [-1, 1] },
    { label: '4-D, pads attribute, opset 10', x: [1, 2, 4, 4], pads: [0, 0, 1, 2, 0, 0, 3, 1], modes: ['reflect', 'edge'], opset: 10 },
    { label: '4-D, pads attribute, opset 9', x: [1, 2, 4, 4], pads: [0, 0, 2, 0, 0, 0, 1, 3], modes: ['reflect', 'edge'], opset: 9 },
  ];
  const table = cases.flatMap((c) => c.modes.map((mode) => ({ ...c, mode, name: `${mode}, ${c.label}` })));

  it.each(table)('$name', async ({ name, mode, x, pads, opset, axes }) => {
    const m = padModel(mode, { name: 'X', kind: 'param', shape: x }, pads, { opset, axes });
    // Every element is checked (the tensors are small), border sources and plain centre ones alike.
    const [r] = await checkGradients(m, { label: name, samplesPerParam: 1000 });
    expect(r.checked).toBe(x.reduce((a, b) => a * b, 1));
    // Pad is linear in X: central differences are exact up to float32 rounding.
    expect(r.maxRelError).toBeLessThan(1e-2);
  });
});

/** Where output index `o` of one padded axis (begin pad `b`, input size `n`) reads X, by ONNX's definition. */
function sourceIndex(mode: Mode, o: number, b: number, n: number): number {
  const i = o - b;
  if (i >= 0 && i < n) return i;
  if (mode === 'edge') return i < 0 ? 0 : n - 1;
  if (mode === 'wrap') return ((i % n) + n) % n;
  return i < 0 ? -i : 2 * (n - 1) - i;
}

/** Independent reference: dX by scattering every dY element onto the X element its output position reads. */
function referencePadGrad(mode: Mode, xDims: number[], begin: number[], yDims: number[], dy: ArrayLike<number>): Float64Array {
  const dx = new Float64Array(xDims.reduce((a, b) => a * b, 1));
  const yIndex = yDims.map(() => 0);
  for (let flat = 0; flat < dy.length; flat++) {
    let target = 0;
    for (let a = 0; a < xDims.length; a++) target = target * xDims[a] + sourceIndex(mode, yIndex[a], begin[a], xDims[a]);
    dx[target] += dy[flat];
    for (let a = yDims.length - 1; a >= 0 && ++yIndex[a] === yDims[a]; a--) yIndex[a] = 0;
  }
  return dx;
}

describe('Pad gradient, copying modes: PyTorch exports (ONNX backend corpus, upgraded to opset 17)', () => {
  const corpus = join(import.meta.dirname, '..', '..', 'fixtures', 'onnx-backend', 'pytorch-converted');
  const readTensor = (path: string) => fromBinary(TensorProtoSchema, readFileSync(path));

  /** The exported model at opset 17 with its input turned into an initializer 'X' (it has no parameters of its own). */
  function load(name: string) {
    const dir = join(corpus, name);
    const model = modelFromBytes(readFileSync(join(dir, 'model.onnx')), name);
    upgradeOpset(model, 17);
    const g = model.graph;
    const pad = g.nodes.find((n) => n.opType === 'Pad')!;
    const input = readTensor(join(dir, 'test_data_set_0', 'input_0.pb'));
    const dims = tensorDims(input);
    const x = tensorToFloat32(input);
    const X = g.addInitializer(floatTensor('X', x, dims), { exactName: true }).setTensorType(DataType.FLOAT, dims);
    const fed = pad.inputs[0]!;
    pad.setInput(0, X);
    g.removeInput(fed);
    inferShapes(g);
    const y = g.outputs[0];
    const expectedY = tensorToFloat32(readTensor(join(dir, 'test_data_set_0', 'output_0.pb')));
    return { model, pad, x, xDims: dims, y, yDims: y.shape as number[], expectedY };
  }

  const exported: [string, Mode][] = [
    ['test_ReflectionPad2d', 'reflect'],
    ['test_ReplicationPad2d', 'edge'],
  ];

  it.each(exported)('%s: the exported Pad node (mode %s) passes a central-difference check', async (name, mode) => {
    const { model, pad, xDims, y, yDims, expectedY } = load(name);
    expect(pad.attrs.string('mode')).toBe(mode);
    // loss = sum(y * R) with R random, so dY = R.
    const rng = new Rng(3);
    const R = Float32Array.from({ length: yDims.reduce((a, b) => a * b, 1) }, () => rng.uniform(-1, 1));
    const b = new GraphBuilder(model.graph);
    model.graph.addOutput(b.identity(b.reduceSum(b.mul(y, b.floatInit('R0', R, yDims)), undefined, false), 'loss'));
    const m: OpModel = { model, feeds: {}, params: ['X'], loss: 'loss', values: {}, weights: [R], op: 'Pad' };

    // Same forward values as PyTorch computed.
    const { fetched } = await computeGradients(m, { fetch: [y.name] });
    expectClose(fetched[y.name].data as Float32Array, expectedY, 1e-5, `${name} y`);
    const [r] = await checkGradients(m, { label: name, samplesPerParam: 1000 });
    expect(r.checked).toBe(xDims.reduce((a, c) => a * c, 1));
    expect(r.maxRelError).toBeLessThan(1e-2);
  });

  it.each(exported)('%s: compileTrainStep (mse) gives X the scatter-added gradient', async (name, mode) => {
    const { model, pad, x, xDims, yDims, expectedY } = load(name);
    const pads = constantInts(pad.inputs[1]!)!;
    const step = compileTrainStep(model, { loss: 'mse', optimizer: 'none', emitGradients: true });
    expect(step.params).toEqual(['X']);
    const rng = new Rng(5);
    const labels = Float32Array.from(expectedY, () => rng.uniform(-1, 1));
    const session = await createSession(modelToBytes(step.model), { name: `${name} train step` });
    try {
      const out = await session.run({ X: ortFloat(x, xDims), [step.labels]: ortFloat(labels, yDims) });
      // mse = mean((y - t)^2): dY = 2 (y - t) / numel(y), with y as PyTorch computed it.
      const dy = Array.from(expectedY, (v, i) => (2 * (v - labels[i])) / expectedY.length);
      const want = referencePadGrad(mode, xDims, pads.slice(0, xDims.length), yDims, dy);
      expectClose(out[step.gradients.X].data as Float32Array, want, 1e-4, `${name} X_grad`);
    } finally {
      await session.release();
    }
  });
});

describe('Pad gradient, copying modes: refusals name the node', () => {
  const refused: { label: string; mode: Mode; x: number[]; pads: number[]; error: RegExp }[] = [
    { label: 'reflect by the whole axis', mode: 'reflect', x: [1, 3], pads: [0, 3, 0, 0], error: /Pad node .*'pad'.*Pad mode 'reflect' pads axis 1 of size 3 by \[3, 0\].*at most 2/ },
    { label: 'wrap past one copy', mode: 'wrap', x: [1, 3], pads: [0, 0, 0, 4], error: /Pad node .*'pad'.*Pad mode 'wrap' pads axis 1 of size 3 by \[0, 4\].*at most 3/ },
    { label: 'negative pads', mode: 'edge', x: [2, 5], pads: [0, 2, 0, -1], error: /Pad node .*'pad'.*negative \(cropping\) pads \[2, -1\] on axis 1/ },
  ];

  it.each(refused)('$label', ({ mode, x, pads, error }) => {
    const m = padModel(mode, { name: 'X', kind: 'param', shape: x }, pads);
    expect(() => buildBackwardOf(m)).toThrow(error);
    expect(() => buildBackwardOf(m)).not.toThrow(/\n/);
  });

  it('refuses a padded axis whose size is not static', () => {
    // y = Pad(X * W) with X [N, 4] fed: the rule cannot tell where the reflection of axis N ends.
    const model = newModel({ opset: 17 });
    const g = model.graph;
    const b = new GraphBuilder(g);
    const x = g.addInput('X').setTensorType(DataType.FLOAT, ['N', 4]);
    const w = b.floatInit('W', [1, 2, 3, 4], [1, 4]);
    const y = b.op('Pad', [b.mul(x, w), b.ints([1, 0, 1, 0], 'pads')], { mode: 'reflect' }, { name: 'pad' });
    const loss = b.reduceSum(y, undefined, false);
    expect(() => buildBackward(model, { loss, wrt: [w] })).toThrow(/Pad node .*'pad'.*Pad mode 'reflect' pads axis 0, whose size is not static/);
  });

  it('refuses pads computed at run time', () => {
    const m = padModel('reflect', { name: 'X', kind: 'param', shape: [1, 4] }, [0, 1, 0, 1]);
    const g = m.model.graph;
    const pad = g.nodes.find((n) => n.opType === 'Pad')!;
    pad.setInput(1, g.addInput('runtime_pads').setTensorType(DataType.INT64, [4]));
    expect(() => buildBackwardOf(m)).toThrow(/Pad node .*'pad'.*pads 'runtime_pads' are computed at run time/);
  });
});
