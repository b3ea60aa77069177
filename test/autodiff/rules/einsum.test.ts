import { describe, expect, it } from 'vitest';
import { DataType } from '../../../src/ir/dtype.js';
import { buildBackwardOf, checkGradients, computeGradients, expectClose, makeOpModel, type OpInput } from '../helpers.js';

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
