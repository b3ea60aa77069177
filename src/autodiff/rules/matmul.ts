import { RegraftError } from '../../errors.js';
import type { Dim, Value } from '../../ir/value.js';
import type { GradientRule } from '../types.js';
import { unbroadcast } from '../unbroadcast.js';
import { requireRank, squeeze, transposeLastTwo, unsqueeze } from '../shapes.js';

/**
 * Y = A @ B (numpy matmul: batch dims broadcast; a 1-D A is a row [1, K], a 1-D B a column [K, 1], and the added
 * axis is dropped from Y).
 *   dA = unbroadcast(dY @ B^T),  dB = unbroadcast(A^T @ dY)   (^T swaps the last two axes)
 * The 1-D cases are handled by putting the dropped axes back on dY, working with the 2-D forms, and squeezing the
 * result; batch broadcasting is undone by the shared unbroadcast.
 */
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
    if (!sy) throw new RegraftError(`${ctx.node.describe()}: the shape of '${ctx.y(0).name}' is unknown; declare the model's input shapes`);
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
    if (ctx.needs(1)) {
      const g = b.op('MatMul', [transposeLastTwo(ctx, A2, sa2.length), dY]);
      const reduced = unbroadcast({ ...common, grad: g, resultShape: [...batch, k, n], input: B, inputShape: sb2 });
      dB = rb === 1 ? squeeze(ctx, reduced, [1]) : reduced;
    }
    return [dA, dB];
  },
};
