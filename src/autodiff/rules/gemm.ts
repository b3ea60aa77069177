import { float } from '../../ir/attributes.js';
import type { Value } from '../../ir/value.js';
import type { GradContext, GradientRule } from '../types.js';

/**
 * Y = alpha * A' B' + beta * C, with A' = transA ? A^T : A and B' = transB ? B^T : B (C broadcast to Y).
 *   dA' = alpha dY B'^T  ->  dA = transA ? alpha B' dY^T : alpha dY B'^T
 *   dB' = alpha A'^T dY  ->  dB = transB ? alpha dY^T A' : alpha A'^T dY
 *   dC  = unbroadcast(beta dY)
 * Each product is one Gemm whose trans flags absorb the transposes (no Transpose nodes).
 */
function product(ctx: GradContext, p: Value, q: Value, transP: boolean, transQ: boolean, alpha: number): Value {
  const { b } = ctx;
  // Gemm's C is optional only from opset 11; before that, a MatMul of (transposed) operands does the same.
  if (ctx.opset >= 11) return b.op('Gemm', [p, q], { transA: transP ? 1 : 0, transB: transQ ? 1 : 0, alpha: float(alpha) });
  const lhs = transP ? b.op('Transpose', [p], { perm: [1, 0] }) : p;
  const rhs = transQ ? b.op('Transpose', [q], { perm: [1, 0] }) : q;
  const out = b.op('MatMul', [lhs, rhs]);
  return alpha === 1 ? out : b.mul(out, b.scalar(alpha));
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
