import { describe, expect, it } from 'vitest';
import { checkGradients, computeGradients, expectClose, makeOpModel, type OpInput } from '../helpers.js';

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

describe('Mean gradient', () => {
  it('is dY / n summed down to each input (hand computed, broadcasting)', async () => {
    // A [2, 2], B [2], C [1]: y = (A + B + C) / 3
    const m = makeOpModel({
      op: 'Mean',
      inputs: [
        { name: 'A', kind: 'param', shape: [2, 2] },
        { name: 'B', kind: 'param', shape: [2] },
        { name: 'C', kind: 'param', shape: [1] },
      ],
    });
    const R = m.weights[0];
    const { grads } = await computeGradients(m);
    expectClose(grads.A.data, Array.from(R, (r) => r / 3), 1e-6, 'dA');
    expectClose(grads.B.data, [(R[0] + R[2]) / 3, (R[1] + R[3]) / 3], 1e-6, 'dB');
    expectClose(grads.C.data, [(R[0] + R[1] + R[2] + R[3]) / 3], 1e-6, 'dC');
    expect(grads.C.dims).toEqual([1]);
  });

  it.each([
    { shapes: [[2, 3]] },
    { shapes: [[2, 3], [2, 3]] },
    { shapes: [[2, 1, 4], [3, 1], [4]] },
    { shapes: [[3, 4], [1, 4], [3, 1], []] },
  ])('passes a central-difference check: $shapes', async ({ shapes }) => {
    const inputs: OpInput[] = shapes.map((shape, k) => ({ name: `X${k}`, kind: 'param', shape }));
    await checkGradients(makeOpModel({ op: 'Mean', inputs, seed: 6 }), { label: JSON.stringify(shapes) });
  });
});
