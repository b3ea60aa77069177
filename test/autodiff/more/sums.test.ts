import { describe, expect, it } from 'vitest';
import { DataType } from '../../../src/ir/dtype.js';
import { checkGradients, computeGradients, expectClose, makeOpModel, type OpInput } from '../helpers.js';
import { buildBackwardOf } from './more-helpers.js';

describe('CumSum gradient', () => {
  it('is a cumulative sum of dY the other way round (hand computed, all four attribute pairs)', async () => {
    // X [3]: dX[j] = sum of R[i] over the outputs i whose sum contains X[j]
    const expected = (R: Float32Array, exclusive: number, reverse: number) =>
      [0, 1, 2].map((j) => [0, 1, 2].filter((i) => (reverse ? (exclusive ? i < j : i <= j) : exclusive ? i > j : i >= j)).reduce((a, i) => a + R[i], 0));
    for (const exclusive of [0, 1]) {
      for (const reverse of [0, 1]) {
        const m = makeOpModel({
          op: 'CumSum',
          inputs: [
            { name: 'X', kind: 'param', shape: [3], values: [1, 2, 3] },
            { name: 'axis', kind: 'int', shape: [], values: [0] },
          ],
          attrs: { exclusive, reverse },
        });
        expectClose((await computeGradients(m)).grads.X.data, expected(m.weights[0], exclusive, reverse), 1e-6, `exclusive ${exclusive} reverse ${reverse}`);
      }
    }
  });

  it.each([
    { x: [3, 4], axis: 1, exclusive: 0, reverse: 0 },
    { x: [2, 3, 4], axis: 0, exclusive: 1, reverse: 0 },
    { x: [2, 3, 4], axis: -1, exclusive: 0, reverse: 1 },
    { x: [4, 2, 3], axis: 2, exclusive: 1, reverse: 1 },
  ])('passes a central-difference check: $x axis $axis exclusive $exclusive reverse $reverse', async ({ x, axis, exclusive, reverse }) => {
    const m = makeOpModel({
      op: 'CumSum',
      inputs: [
        { name: 'X', kind: 'param', shape: x },
        { name: 'axis', kind: 'int', shape: [], values: [axis] },
      ],
      attrs: { exclusive, reverse },
    });
    await checkGradients(m, { label: JSON.stringify({ x, axis }) });
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

describe('Einsum gradient', () => {
  it('matches a hand computation (matrix-vector product)', async () => {
    // y_i = sum_j A_ij v_j:  dA_ij = R_i v_j,  dv_j = sum_i R_i A_ij
    const m = makeOpModel({
      op: 'Einsum',
      inputs: [
        { name: 'A', kind: 'param', shape: [2, 2], values: [1, 2, 3, 4] },
        { name: 'v', kind: 'param', shape: [2], values: [5, -1] },
      ],
      attrs: { equation: 'ij,j->i' },
    });
    const [r0, r1] = m.weights[0];
    const { grads } = await computeGradients(m);
    expectClose(grads.A.data, [5 * r0, -r0, 5 * r1, -r1], 1e-5, 'dA');
    expectClose(grads.v.data, [r0 + 3 * r1, 2 * r0 + 4 * r1], 1e-5, 'dv');
  });

  const cases: { equation: string; a: number[]; b?: number[] }[] = [
    { equation: 'bij,bjk->bik', a: [2, 3, 4], b: [2, 4, 5] },
    { equation: 'ij,kj->ik', a: [3, 4], b: [2, 4] },
    { equation: 'bhqd,bhkd->bhqk', a: [1, 2, 3, 4], b: [1, 2, 5, 4] },
    { equation: 'ij,jk', a: [2, 3], b: [3, 4] }, // implicit output 'ik'
    { equation: 'ij,ij->', a: [3, 4], b: [3, 4] }, // scalar output
    { equation: 'i,j->ij', a: [3], b: [4] }, // outer product
    { equation: 'ijk,j->k', a: [2, 3, 4], b: [3] }, // i summed in the first operand alone: broadcast back
    { equation: 'ij,k->jk', a: [3, 2], b: [4] },
    { equation: 'abc->cb', a: [2, 3, 4] }, // one operand: a transpose and a sum
  ];
  it.each(cases)('passes a central-difference check: $equation', async ({ equation, a, b }) => {
    const inputs: OpInput[] = [{ name: 'A', kind: 'param', shape: a }];
    if (b) inputs.push({ name: 'B', kind: 'param', shape: b });
    await checkGradients(makeOpModel({ op: 'Einsum', inputs, attrs: { equation }, seed: 8 }), { label: equation });
  });

  it.each([
    { equation: 'ii->i', shapes: [[3, 3]], message: /repeats a letter within the term 'ii'/ },
    { equation: '...ij,...jk->...ik', shapes: [[2, 3], [3, 2]], message: /uses an ellipsis/ },
    { equation: 'ij,jk,kl->il', shapes: [[2, 2], [2, 2], [2, 2]], message: /has 3 operands/ },
  ])('refuses $equation in one line naming the node', ({ equation, shapes, message }) => {
    const inputs: OpInput[] = shapes.map((shape, k) => ({ name: `A${k}`, kind: 'param', shape }));
    const outShape = equation === 'ii->i' ? [3] : [2, 2];
    const m = makeOpModel({ op: 'Einsum', inputs, attrs: { equation }, outputShapes: [outShape] });
    // Shape inference skips ellipsis equations: declare Y's shape so the loss reduction is differentiable.
    m.model.graph.requireValue('y').setTensorType(DataType.FLOAT, outShape);
    expect(() => buildBackwardOf(m)).toThrow(message);
    expect(() => buildBackwardOf(m)).toThrow(/^Einsum node 'einsum': /);
  });
});
