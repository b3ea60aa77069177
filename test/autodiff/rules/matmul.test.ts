import { describe, expect, it } from 'vitest';
import { float } from '../../../src/ir/attributes.js';
import { checkGradients, computeGradients, expectClose, makeOpModel } from '../helpers.js';

/** Plain row-major matrix product of [m, k] and [k, n]. */
function matmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): number[] {
  const out = new Array<number>(m * n).fill(0);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) out[i * n + j] += a[i * k + p] * b[p * n + j];
  return out;
}

function transpose(a: ArrayLike<number>, rows: number, cols: number): number[] {
  const out = new Array<number>(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j];
  return out;
}

describe('MatMul gradient', () => {
  it('by hand: dA = dY B^T, dB = A^T dY', async () => {
    // Y[2,4] = A[2,3] @ B[3,4]
    const m = makeOpModel({ op: 'MatMul', inputs: [{ name: 'A', shape: [2, 3], kind: 'param' }, { name: 'B', shape: [3, 4], kind: 'param' }] });
    const { grads } = await computeGradients(m);
    const R = m.weights[0];
    expectClose(grads.A.data, matmul(R, transpose(m.values.B, 3, 4), 2, 4, 3), 1e-5, 'dA');
    expectClose(grads.B.data, matmul(transpose(m.values.A, 2, 3), R, 3, 2, 4), 1e-5, 'dB');
  });

  it('by hand, 1-D times 1-D: a dot product', async () => {
    const m = makeOpModel({ op: 'MatMul', inputs: [{ name: 'a', shape: [3], kind: 'param' }, { name: 'b', shape: [3], kind: 'param' }] });
    const { grads } = await computeGradients(m);
    const r = m.weights[0][0];
    expect(grads.a.dims).toEqual([3]);
    expectClose(grads.a.data, Array.from(m.values.b, (v) => v * r), 1e-6, 'da');
    expectClose(grads.b.data, Array.from(m.values.a, (v) => v * r), 1e-6, 'db');
  });

  it('takes dB of a 2-D B under a batched A as one Gemm of the flattened operands, with no ReduceSum', async () => {
    const m = makeOpModel({ op: 'MatMul', inputs: [{ name: 'A', shape: [2, 5, 3], kind: 'input' }, { name: 'B', shape: [3, 4], kind: 'param' }] });
    const { model } = await computeGradients(m);
    const grad = model.graph.nodes.filter((n) => n.name.startsWith('grad/')).map((n) => n.opType);
    expect(grad).toContain('Gemm');
    expect(grad).not.toContain('ReduceSum');
  });

  it.each([
    [[2, 3], [3, 4]],
    [[2, 2, 3], [3, 4]], // batch on A only: dB sums over the batch (one Gemm of the flattened operands)
    [[2, 3, 2, 3], [3, 4]], // two batch dims on A only
    [[3, 4], [2, 4, 2]], // batch on B only
    [[2, 1, 2, 3], [3, 3, 2]], // broadcast batch dims on both sides
    [[3], [2, 3, 4]], // 1-D A
    [[2, 2, 3], [3]], // 1-D B
    [[4], [4]],
  ])('A %j @ B %j matches central differences', async (sa, sb) => {
    const m = makeOpModel({ op: 'MatMul', inputs: [{ name: 'A', shape: sa, kind: 'param' }, { name: 'B', shape: sb, kind: 'param' }] });
    await checkGradients(m, { label: `${JSON.stringify(sa)} @ ${JSON.stringify(sb)}` });
  });
});

describe('Gemm gradient', () => {
  it('by hand: alpha A^T B + beta C with transA', async () => {
    // Y[2,4] = 0.5 * A[3,2]^T @ B[3,4] + 2 * C[4]
    const m = makeOpModel({
      op: 'Gemm',
      attrs: { transA: 1, alpha: 0.5, beta: float(2) },
      inputs: [{ name: 'A', shape: [3, 2], kind: 'param' }, { name: 'B', shape: [3, 4], kind: 'param' }, { name: 'C', shape: [4], kind: 'param' }],
    });
    const { grads } = await computeGradients(m);
    const R = m.weights[0];
    // dA = 0.5 * (R B^T)^T = 0.5 * B R^T, shaped [3, 2]
    expectClose(grads.A.data, matmul(m.values.B, transpose(R, 2, 4), 3, 4, 2).map((v) => 0.5 * v), 1e-5, 'dA');
    expectClose(grads.B.data, matmul(m.values.A, R, 3, 2, 4).map((v) => 0.5 * v), 1e-5, 'dB');
    expectClose(grads.C.data, [0, 1, 2, 3].map((j) => 2 * (R[j] + R[4 + j])), 1e-5, 'dC');
  });

  it.each([
    [0, 0, [2, 3], [3, 4], [2, 4]],
    [1, 0, [3, 2], [3, 4], [1, 4]],
    [0, 1, [2, 3], [4, 3], [4]],
    [1, 1, [3, 2], [4, 3], [2, 1]],
    [1, 1, [3, 2], [4, 3], []],
    [0, 1, [2, 3], [4, 3], undefined], // no C
  ])('transA %i transB %i A %j B %j C %j matches central differences', async (transA, transB, sa, sb, sc) => {
    const m = makeOpModel({
      op: 'Gemm',
      attrs: { transA, transB, alpha: 1.5, beta: 0.5 },
      inputs: [
        { name: 'A', shape: sa, kind: 'param' },
        { name: 'B', shape: sb, kind: 'param' },
        ...(sc ? [{ name: 'C', shape: sc, kind: 'param' as const }] : []),
      ],
    });
    await checkGradients(m, { label: `C ${JSON.stringify(sc)}` });
  });

  it('opset 9 (C required, no optional-C Gemm) uses MatMul for the products', async () => {
    const m = makeOpModel({
      op: 'Gemm',
      opset: 9,
      attrs: { transB: 1, alpha: float(2) },
      inputs: [{ name: 'A', shape: [2, 3], kind: 'param' }, { name: 'B', shape: [4, 3], kind: 'param' }, { name: 'C', shape: [4], kind: 'param' }],
    });
    const { model } = await computeGradients(m);
    const backward = model.graph.nodes.filter((n) => n.name.startsWith('grad/'));
    expect(backward.some((n) => n.opType === 'Gemm')).toBe(false);
    expect(backward.filter((n) => n.opType === 'MatMul')).toHaveLength(2);
    await checkGradients(m);
  });
});
