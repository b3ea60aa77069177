/**
 * Matrix products.
 *
 * Y = MatMul(A, B) (numpy matmul: batch dims broadcast; a 1-D A is a row [1, K], a 1-D B a column [K, 1], and the
 * added axis is dropped from Y):
 *   dA = unbroadcast(dY @ B^T),  dB = unbroadcast(A^T @ dY)   (^T swaps the last two axes; for a 2-D B under a
 *   batched A, one Gemm of the flattened operands, flatWeightGrad)
 * The 1-D cases are handled by putting the dropped axes back on dY, working with the 2-D forms, and squeezing the
 * result; batch broadcasting is undone by the shared unbroadcast.
 *
 * Y = Gemm(A, B, C) = alpha * A' B' + beta * C, with A' = transA ? A^T : A and B' = transB ? B^T : B (C broadcast
 * to Y):
 *   dA' = alpha dY B'^T  ->  dA = transA ? alpha B' dY^T : alpha dY B'^T
 *   dB' = alpha A'^T dY  ->  dB = transB ? alpha dY^T A' : alpha A'^T dY
 *   dC  = unbroadcast(beta dY)
 * Each product is one Gemm whose trans flags absorb the transposes (no Transpose nodes).
 */
import { RegraftError } from '../../errors.js';
import { float } from '../../ir/attributes.js';
import type { Dim, Value } from '../../ir/value.js';
import { requireRank, squeeze, transposeLastTwo, unsqueeze } from '../shapes.js';
import type { GradContext, GradientRule } from '../types.js';
import { unbroadcast } from '../unbroadcast.js';

export const matMulGrad: GradientRule = {
  opTypes: ['MatMul'],
  grad(ctx) {
    const { b } = ctx;
    const A = ctx.x(0);
    const B = ctx.x(1);
    const ra = requireRank(ctx, A);
    const rb = requireRank(ctx, B);
    const sa = ctx.shape(A)!;
    const sb = ctx.shape(B)!;
    const sy = ctx.shape(ctx.y(0));
    if (!sy) throw new RegraftError(`${ctx.node.describe()}: the shape of '${ctx.y(0).name}' is unknown; ${ctx.lostTrack(ctx.y(0), 'rank')}`);
    if (ra === 0 || rb === 0) throw new RegraftError(`${ctx.node.describe()}: MatMul of a scalar is not defined`);

    // Matrix forms: A2 [..., M, K], B2 [..., K, N], dY2 [..., M, N].
    const A2 = ra === 1 ? unsqueeze(ctx, A, [0]) : A;
    const B2 = rb === 1 ? unsqueeze(ctx, B, [1]) : B;
    const sa2: Dim[] = ra === 1 ? [1, sa[0]] : sa;
    const sb2: Dim[] = rb === 1 ? [sb[0], 1] : sb;
    let dY = ctx.dy(0)!;
    const batch = sy.slice(0, sy.length - (ra === 1 ? 0 : 1) - (rb === 1 ? 0 : 1));
    if (ra === 1) dY = unsqueeze(ctx, dY, [batch.length]);
    if (rb === 1) dY = unsqueeze(ctx, dY, [batch.length + 1]);
    const m = sa2[sa2.length - 2];
    const k = sa2[sa2.length - 1];
    const n = sb2[sb2.length - 1];
    const common = { b, opset: ctx.opset, shapeOf: ctx.shapeOf, where: ctx.node.describe() };
    let dA: Value | null = null;
    let dB: Value | null = null;
    if (ctx.needs(0)) {
      const g = b.op('MatMul', [dY, transposeLastTwo(ctx, B2, sb2.length)]);
      const reduced = unbroadcast({ ...common, grad: g, resultShape: [...batch, m, k], input: A, inputShape: sa2 });
      dA = ra === 1 ? squeeze(ctx, reduced, [0]) : reduced;
    }
    if (ctx.needs(1) && rb === 2 && ra >= 3 && typeof k === 'number' && typeof n === 'number') {
      dB = flatWeightGrad(ctx, A, dY, k, n);
    } else if (ctx.needs(1)) {
      const g = b.op('MatMul', [transposeLastTwo(ctx, A2, sa2.length), dY]);
      const reduced = unbroadcast({ ...common, grad: g, resultShape: [...batch, k, n], input: B, inputShape: sb2 });
      dB = rb === 1 ? squeeze(ctx, reduced, [1]) : reduced;
    }
    return [dA, dB];
  },
};

/**
 * dB of a 2-D B under a batched A [..., M, K] (a linear layer over a sequence): the batch dims of A^T dY are summed
 * away, and that sum is one product of the flattened operands, A [*, K]^T dY [*, N]. One Gemm, where the batched
 * MatMul and its unbroadcasting ReduceSum wrote and reread a [batch, K, N] intermediate: on a 2-layer transformer
 * step (d 128, T 64, batch 32) the ReduceSums alone took 8 of its 89 ms of kernel time.
 */
function flatWeightGrad(ctx: GradContext, a: Value, dY: Value, k: number, n: number): Value {
  const { b } = ctx;
  const rows = b.op('Reshape', [a, b.ints([-1, k], 'rows_k')]);
  const dRows = b.op('Reshape', [dY, b.ints([-1, n], 'rows_n')]);
  return product(ctx, rows, dRows, true, false, 1);
}

export const gemmGrad: GradientRule = {
  opTypes: ['Gemm'],
  grad(ctx) {
    const dY = ctx.dy(0)!;
    const alpha = ctx.attrs.float('alpha', 1);
    const beta = ctx.attrs.float('beta', 1);
    const transA = ctx.attrs.int('transA', 0) !== 0;
    const transB = ctx.attrs.int('transB', 0) !== 0;
    const A = ctx.x(0);
    const B = ctx.x(1);
    let dA: Value | null = null;
    let dB: Value | null = null;
    let dC: Value | null = null;
    if (ctx.needs(0)) dA = transA ? product(ctx, B, dY, transB, true, alpha) : product(ctx, dY, B, false, !transB, alpha);
    if (ctx.needs(1)) dB = transB ? product(ctx, dY, A, true, transA, alpha) : product(ctx, A, dY, !transA, false, alpha);
    if (ctx.hasInput(2) && ctx.needs(2)) {
      const scaled = beta === 1 ? dY : ctx.b.mul(dY, ctx.b.scalar(beta));
      dC = ctx.unbroadcast(scaled, 2);
    }
    return [dA, dB, dC];
  },
};

/** p' q' (alpha times), one Gemm from opset 11. */
function product(ctx: GradContext, p: Value, q: Value, transP: boolean, transQ: boolean, alpha: number): Value {
  const { b } = ctx;
  // Gemm's C is optional only from opset 11; before that, a MatMul of (transposed) operands does the same.
  if (ctx.opset >= 11) return b.op('Gemm', [p, q], { transA: transP ? 1 : 0, transB: transQ ? 1 : 0, alpha: float(alpha) });
  const lhs = transP ? b.op('Transpose', [p], { perm: [1, 0] }) : p;
  const rhs = transQ ? b.op('Transpose', [q], { perm: [1, 0] }) : q;
  const out = b.op('MatMul', [lhs, rhs]);
  return alpha === 1 ? out : b.mul(out, b.scalar(alpha));
}
