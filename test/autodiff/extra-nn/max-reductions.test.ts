import { describe, expect, it } from 'vitest';
import { gradcheck } from '../../../src/check/gradcheck.js';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { DataType } from '../../../src/ir/dtype.js';
import { newModel } from '../../../src/ir/model.js';
import { floatTensor as tensorProto } from '../../../src/ir/tensor.js';
import { floatTensor } from '../../../src/runtime/tensors.js';
import { checkGradients, computeGradients, expectClose, makeOpModel, type OpInput } from '../helpers.js';
import { count, distinctValues } from './extra-nn-helpers.js';

describe('GlobalMaxPool gradient', () => {
  it('sends dY to exactly one maximum per plane, the first of a tie (hand computed)', async () => {
    // X [1,2,2,2]: plane 0 = [1, 3, 3, 0] (tie at 1 and 2), plane 1 = [5, 2, 2, 5] (tie at 0 and 3)
    const m = makeOpModel({ op: 'GlobalMaxPool', inputs: [{ name: 'X', kind: 'param', shape: [1, 2, 2, 2], values: [1, 3, 3, 0, 5, 2, 2, 5] }] });
    const [r0, r1] = m.weights[0];
    const { grads } = await computeGradients(m);
    expectClose(grads.X.data, [0, r0, 0, 0, r1, 0, 0, 0], 1e-6, 'dX');
  });

  it.each([[[2, 3, 4, 4]], [[2, 2, 5]], [[1, 2, 2, 3, 2]]])('passes a central-difference check: %j', async (x) => {
    const m = makeOpModel({ op: 'GlobalMaxPool', inputs: [{ name: 'X', kind: 'param', shape: x, values: distinctValues(count(x)) }] });
    await checkGradients(m, { samplesPerParam: 10 });
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
    const inputs: OpInput[] = [{ name: 'X', kind: 'param', shape: x, values: distinctValues(count(x), 5) }];
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
