import type { GradientRule } from '../types.js';
import { requireRank } from '../shapes.js';

/**
 * y = Transpose(x, perm) (perm defaults to reversing the axes): y[i...] = x[i permuted], so
 *   dx = Transpose(dy, inverse(perm)),  inverse(perm)[perm[k]] = k.
 */
export const transposeGrad: GradientRule = {
  opTypes: ['Transpose'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null];
    const perm = ctx.attrs.has('perm') ? ctx.attrs.ints('perm') : reversed(requireRank(ctx, ctx.x(0)));
    const inverse = new Array<number>(perm.length);
    perm.forEach((p, k) => (inverse[p] = k));
    return [ctx.b.op('Transpose', [ctx.dy(0)], { perm: inverse })];
  },
};

function reversed(rank: number): number[] {
  return Array.from({ length: rank }, (_, i) => rank - 1 - i);
}
