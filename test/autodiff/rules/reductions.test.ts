import { describe, expect, it } from 'vitest';
import { gradcheck } from '../../../src/check/gradcheck.js';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { DataType } from '../../../src/ir/dtype.js';
import { newModel } from '../../../src/ir/model.js';
import { numel, floatTensor as tensorProto } from '../../../src/ir/tensor.js';
import { floatTensor } from '../../../src/runtime/tensors.js';
import { checkGradients, computeGradients, distinctValues, expectClose, intInput, makeOpModel, type OpInput, type OpModelSpec, paramX } from '../helpers.js';

describe('ReduceSum and ReduceMean', () => {
  it('by hand: ReduceMean over axis 1 without keepdims spreads dy / 3', async () => {
    const m = makeOpModel({ op: 'ReduceMean', opset: 13, attrs: { axes: [1], keepdims: 0 }, inputs: [paramX([2, 3])] });
    const { grads } = await computeGradients(m);
    const R = m.weights[0];
    expectClose(grads.x.data, [R[0], R[0], R[0], R[1], R[1], R[1]].map((v) => v / 3), 1e-6);
  });

  const cases: [string, OpModelSpec][] = [
    ['ReduceSum opset 13 axes input, keepdims', { op: 'ReduceSum', inputs: [paramX([2, 3, 4]), intInput('axes', [0, 2])] }],
    ['ReduceSum opset 13 no keepdims, negative axis', { op: 'ReduceSum', attrs: { keepdims: 0 }, inputs: [paramX([2, 3, 4]), intInput('axes', [-1, 0])] }],
    ['ReduceSum opset 11 attribute', { op: 'ReduceSum', opset: 11, attrs: { axes: [1], keepdims: 0 }, inputs: [paramX([2, 3])] }],
    ['ReduceSum all axes, no keepdims', { op: 'ReduceSum', attrs: { keepdims: 0 }, inputs: [paramX([2, 3])] }],
    ['ReduceSum noop_with_empty_axes', { op: 'ReduceSum', attrs: { noop_with_empty_axes: 1 }, inputs: [paramX([2, 3])] }],
    ['ReduceMean opset 17 attribute, keepdims', { op: 'ReduceMean', attrs: { axes: [0] }, inputs: [paramX([3, 2])] }],
    ['ReduceMean opset 18 axes input, no keepdims', { op: 'ReduceMean', opset: 18, attrs: { keepdims: 0 }, inputs: [paramX([2, 3, 2]), intInput('axes', [1])] }],
    ['ReduceMean opset 18 all axes', { op: 'ReduceMean', opset: 18, attrs: { keepdims: 0 }, inputs: [paramX([2, 3])] }],
  ];
  it.each(cases)('%s matches central differences', async (_, spec) => {
    await checkGradients(makeOpModel(spec));
  });
});

/** X as a param, axes as an attribute (opset < 18) or an int64 input (opset >= 18). */
function reduceModel(op: string, spec: { x: number[]; axes?: number[]; keepdims?: number; opset?: number; noop?: number; values?: number[]; range?: [number, number]; minAbs?: number }) {
  const opset = spec.opset ?? 17;
  const fromInput = opset >= 18;
  const inputs: OpInput[] = [{ name: 'X', kind: 'param', shape: spec.x, values: spec.values, range: spec.range, minAbs: spec.minAbs }];
  if (fromInput && spec.axes) inputs.push({ name: 'axes', kind: 'int', shape: [spec.axes.length], values: spec.axes });
  const attrs = { keepdims: spec.keepdims, noop_with_empty_axes: spec.noop, ...(!fromInput && spec.axes ? { axes: spec.axes } : {}) };
  return makeOpModel({ op, inputs, attrs, opset, seed: 5 });
}

interface ReduceCase {
  label: string;
  x: number[];
  axes?: number[];
  keepdims?: number;
  opset?: number;
  noop?: number;
}

/** The axes/keepdims/opset variants every reduction below is checked over. */
const VARIANTS: ReduceCase[] = [
  { label: 'last axis, keepdims 1', x: [2, 3, 4], axes: [-1] },
  { label: 'axes 0 and 2, keepdims 0', x: [3, 2, 4], axes: [0, 2], keepdims: 0 },
  { label: 'all axes, keepdims 0', x: [3, 4], keepdims: 0 },
  { label: 'axes input, opset 18, keepdims 0', x: [2, 4, 3], axes: [1], keepdims: 0, opset: 18 },
  { label: 'opset 11 attribute', x: [4, 3], axes: [0], opset: 11 },
];

describe('ReduceL2 gradient', () => {
  it('is dY x / y, and zero for an all-zero slice (hand computed)', async () => {
    // X [[3, 4], [0, 0]], axes [1], keepdims 0: y = [5, 0]
    const m = reduceModel('ReduceL2', { x: [2, 2], axes: [1], keepdims: 0, values: [3, 4, 0, 0] });
    const [r0] = m.weights[0];
    expectClose((await computeGradients(m)).grads.X.data, [(3 / 5) * r0, (4 / 5) * r0, 0, 0], 1e-6, 'dX');
  });

  it.each(VARIANTS)('passes a central-difference check: $label', async (c) => {
    await checkGradients(reduceModel('ReduceL2', { ...c, range: [-2, 2], minAbs: 0.1 }), { label: c.label });
  });
});

describe('ReduceLogSum gradient', () => {
  it('is dY / sum over the reduced axes (hand computed)', async () => {
    // X [[1, 3], [2, 2]], axes [1], keepdims 0: both sums are 4
    const m = reduceModel('ReduceLogSum', { x: [2, 2], axes: [1], keepdims: 0, values: [1, 3, 2, 2], opset: 13 });
    const [r0, r1] = m.weights[0];
    expectClose((await computeGradients(m)).grads.X.data, [r0 / 4, r0 / 4, r1 / 4, r1 / 4], 1e-6, 'dX');
  });

  it.each(VARIANTS)('passes a central-difference check: $label', async (c) => {
    await checkGradients(reduceModel('ReduceLogSum', { ...c, range: [0.5, 2] }), { label: c.label });
  });
});

describe('ReduceProd gradient', () => {
  it('is the product of the other entries, exact with one or more zeros in the slice (hand computed)', async () => {
    // rows: no zero, one zero, two zeros; axes [1], keepdims 0
    const m = reduceModel('ReduceProd', { x: [3, 3], axes: [1], keepdims: 0, values: [2, 3, 4, 0, 5, 2, 0, 0, 7], opset: 13 });
    const [r0, r1] = m.weights[0];
    expectClose((await computeGradients(m)).grads.X.data, [12 * r0, 8 * r0, 6 * r0, 10 * r1, 0, 0, 0, 0, 0], 1e-6, 'dX');
  });

  it.each(VARIANTS)('passes a central-difference check: $label', async (c) => {
    await checkGradients(reduceModel('ReduceProd', { ...c, range: [-1.5, 1.5], minAbs: 0.3 }), { label: c.label });
  });

  it('passes a central-difference check with zeros in the input (the product is linear in each entry)', async () => {
    const values = [0, 0.7, -1.2, 0.9, 0, 0, 1.1, -0.8, 1.3, 0.6, -0.9, 1.4];
    await checkGradients(reduceModel('ReduceProd', { x: [3, 4], axes: [1], values }), { label: 'zeros' });
  });
});

describe('reductions over no axis (empty axes, noop_with_empty_axes = 1)', () => {
  // onnxruntime applies the per-element function there (|x|, log x, x), not the identity the spec text names.
  it.each([
    { op: 'ReduceL2', values: [-2, 0.5, 3], slope: (x: number) => Math.sign(x) },
    { op: 'ReduceLogSum', values: [0.5, 2, 4], slope: (x: number) => 1 / x },
    { op: 'ReduceProd', values: [-2, 0.5, 3], slope: () => 1 },
  ])('$op differentiates what onnxruntime computes (hand computed and central differences)', async ({ op, values, slope }) => {
    const m = reduceModel(op, { x: [3], axes: [], opset: 18, noop: 1, values });
    const R = m.weights[0];
    expectClose((await computeGradients(m)).grads.X.data, values.map((x, i) => slope(x) * R[i]), 1e-6, op);
    await checkGradients(m, { label: 'noop' });
  });
});

describe('ReduceLogSumExp gradient', () => {
  it('is dY times the softmax over the reduced axes (hand computed)', async () => {
    // X [2, 2] = [[0, ln 3], [1, 1]], axes [1], keepdims 0: softmax rows [1/4, 3/4], [1/2, 1/2]
    const m = makeOpModel({ op: 'ReduceLogSumExp', inputs: [{ name: 'X', kind: 'param', shape: [2, 2], values: [0, Math.log(3), 1, 1] }], attrs: { axes: [1], keepdims: 0 }, opset: 13 });
    const [r0, r1] = m.weights[0];
    expectClose((await computeGradients(m)).grads.X.data, [r0 / 4, (3 * r0) / 4, r1 / 2, r1 / 2], 1e-5, 'dX');
  });

  const cases: { label: string; x: number[]; axes?: number[]; keepdims?: number; opset?: number; noop?: number }[] = [
    { label: 'last axis, keepdims 1', x: [2, 3, 4], axes: [-1] },
    { label: 'axes 0 and 2, keepdims 0', x: [3, 2, 4], axes: [0, 2], keepdims: 0 },
    { label: 'all axes, keepdims 0', x: [3, 4], keepdims: 0 },
    { label: 'axes input, opset 18, keepdims 0', x: [2, 4, 3], axes: [1], keepdims: 0, opset: 18 },
    { label: 'opset 11 attribute', x: [4, 3], axes: [0], keepdims: 1, opset: 11 },
    { label: 'empty axes with noop_with_empty_axes (identity)', x: [2, 3], axes: [], opset: 18, noop: 1 },
  ];
  it.each(cases)('passes a central-difference check: $label', async ({ label, x, axes, keepdims, opset, noop }) => {
    const fromInput = (opset ?? 17) >= 18;
    const inputs: OpInput[] = [{ name: 'X', kind: 'param', shape: x, range: [-2, 2] }];
    if (fromInput && axes) inputs.push({ name: 'axes', kind: 'int', shape: [axes.length], values: axes });
    const attrs = { keepdims, noop_with_empty_axes: noop, ...(!fromInput && axes ? { axes } : {}) };
    await checkGradients(makeOpModel({ op: 'ReduceLogSumExp', inputs, attrs, opset }), { label });
  });
});

describe('ReduceMax / ReduceMin gradient', () => {
  it('routes each dY to one extreme of its group, ties to the first (hand computed)', async () => {
    // X [2,3] = [[4, 1, 4], [0, 2, -1]]; ReduceMax over axis 1, keepdims 0 -> [4, 2]; ReduceMin -> [1, -1]
    const x = [4, 1, 4, 0, 2, -1];
    const max = makeOpModel({ op: 'ReduceMax', inputs: [{ name: 'X', kind: 'param', shape: [2, 3], values: x }], attrs: { axes: [1], keepdims: 0 }, opset: 13 });
    const [a0, a1] = max.weights[0];
    expectClose((await computeGradients(max)).grads.X.data, [a0, 0, 0, 0, a1, 0], 1e-6, 'ReduceMax dX');
    const min = makeOpModel({ op: 'ReduceMin', inputs: [{ name: 'X', kind: 'param', shape: [2, 3], values: x }], attrs: { axes: [1], keepdims: 0 }, opset: 13 });
    const [b0, b1] = min.weights[0];
    expectClose((await computeGradients(min)).grads.X.data, [0, b0, 0, 0, 0, b1], 1e-6, 'ReduceMin dX');
  });

  it('sends the whole dY of a full reduction to the first of tied maxima (hand computed)', async () => {
    const m = makeOpModel({ op: 'ReduceMax', inputs: [{ name: 'X', kind: 'param', shape: [2, 2], values: [1, 7, 7, 7] }], attrs: { keepdims: 0 } });
    const [r] = m.weights[0];
    expectClose((await computeGradients(m)).grads.X.data, [0, r, 0, 0], 1e-6, 'dX');
  });

  const cases: { label: string; op: string; x: number[]; axes?: number[]; keepdims?: number; opset?: number; noop?: number }[] = [
    { label: 'max, middle axis, keepdims 1', op: 'ReduceMax', x: [2, 3, 4], axes: [1] },
    { label: 'max, axes 0 and 2, keepdims 0', op: 'ReduceMax', x: [3, 2, 4], axes: [0, 2], keepdims: 0 },
    { label: 'min, negative axis, keepdims 0', op: 'ReduceMin', x: [2, 3, 5], axes: [-1], keepdims: 0 },
    { label: 'min, all axes', op: 'ReduceMin', x: [3, 4] },
    { label: 'max, axes input, opset 18', op: 'ReduceMax', x: [2, 4, 3], axes: [2, 0], keepdims: 0, opset: 18 },
    { label: 'min, axes input keepdims 1, opset 18', op: 'ReduceMin', x: [2, 3, 2, 2], axes: [1, 3], opset: 18 },
    { label: 'max, opset 11 attribute', op: 'ReduceMax', x: [4, 3], axes: [0], keepdims: 0, opset: 11 },
    { label: 'max, empty axes with noop_with_empty_axes (identity)', op: 'ReduceMax', x: [2, 3], axes: [], opset: 18, noop: 1 },
  ];

  it.each(cases)('passes a central-difference check: $label', async ({ op, label, x, axes, keepdims, opset, noop }) => {
    const fromInput = (opset ?? 17) >= 18;
    const inputs: OpInput[] = [{ name: 'X', kind: 'param', shape: x, values: distinctValues(numel(x), 5) }];
    if (fromInput && axes) inputs.push({ name: 'axes', kind: 'int', shape: [axes.length], values: axes });
    const attrs = { keepdims, noop_with_empty_axes: noop, ...(!fromInput && axes ? { axes } : {}) };
    const m = makeOpModel({ op, inputs, attrs, opset });
    await checkGradients(m, { label, samplesPerParam: 10 });
  });

  it('works with sizes known only at run time', async () => {
    // x [N, 3, 4] (symbolic N); y = ReduceMax(x * P, axes [0, 2], keepdims 0) + GlobalMaxPool(x * P)[.., 0]; loss = sum(y * y)
    const model = newModel({ opset: 17 });
    const g = model.graph;
    const b = new GraphBuilder(g);
    const p = g.addInitializer(tensorProto('P', Float32Array.from(distinctValues(12, 7)).map((v) => v + 2), [3, 4]), { exactName: true });
    const x = g.addInput('x').setTensorType(DataType.FLOAT, ['N', 3, 4]);
    const h = b.mul(x, p);
    const reduced = b.op('ReduceMax', [h], { axes: [0, 2], keepdims: 0 });
    const pooled = b.op('Reshape', [b.op('GlobalMaxPool', [h]), b.ints([-1, 3])]);
    const y = b.add(reduced, b.reduceSum(pooled, [0], false));
    g.addOutput(b.identity(b.reduceSum(b.mul(y, y), undefined, false), 'loss'));
    const feeds = { x: floatTensor(Float32Array.from(distinctValues(2 * 12, 8)).map((v) => v + 2), [2, 3, 4]) };
    const [result] = await gradcheck({ model, loss: 'loss', feeds, eps: 1e-3 });
    expect(result.maxRelError).toBeLessThan(1e-2);
  });
});
