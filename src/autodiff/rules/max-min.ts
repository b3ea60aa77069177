import type { Value } from '../../ir/value.js';
import type { GradientRule } from '../types.js';

/**
 * y = Max(x_0, ..., x_n-1) (or Min), broadcasting.  Elementwise, the whole gradient goes to the input that
 * produced y there:  dx_i = unbroadcast(dy where x_i == y and no x_j (j < i) == y, else 0).
 *
 * Ties go to the FIRST input holding the extreme value (PyTorch's maximum/minimum split a tie evenly instead;
 * either is a valid subgradient, and one winner keeps the sum of the gradients equal to dy). The "no earlier
 * winner" condition is a running Or of the earlier equality masks, so only inputs up to the last one needed are
 * compared.
 */
export const maxMinGrad: GradientRule = {
  opTypes: ['Max', 'Min'],
  grad(ctx) {
    const n = ctx.node.inputs.length;
    const needed = Array.from({ length: n }, (_, i) => ctx.needs(i));
    if (n === 1) return [needed[0] ? ctx.dy(0) : null];
    const { b } = ctx;
    const dy = ctx.dy(0)!;
    const y = ctx.y(0);
    const zero = b.scalar(0);
    const last = needed.lastIndexOf(true);
    const grads: (Value | null)[] = needed.map(() => null);
    let taken: Value | null = null; // where an earlier input already won
    for (let i = 0; i <= last; i++) {
      const hit = b.op('Equal', [ctx.x(i), y]);
      const wins = taken ? b.op('And', [hit, b.op('Not', [taken])]) : hit;
      if (needed[i]) grads[i] = ctx.unbroadcast(b.op('Where', [wins, dy, zero]), i);
      if (i < last) taken = taken ? b.op('Or', [taken, hit]) : hit;
    }
    return grads;
  },
};
