/**
 * Ops that pick, per element, which input (or none) y comes from; the gradient goes where the pick went, through
 * the same mask:
 *
 *   Where:   z = Where(c, x, y) (broadcasting)       dx = unbroadcast(dz where c, else 0), dy = unbroadcast(dz where not c)
 *                                                    (the boolean condition gets none)
 *   Max/Min: y = Max(x_0, ..., x_n-1) (broadcasting) dx_i = unbroadcast(dy where x_i == y and no x_j (j < i) == y, else 0)
 *   Clip:    y = min(max(x, lo), hi)                 dx = dy where lo < x < hi, else 0     (the bounds get none)
 *   Trilu:   y = x masked to a triangle (k, upper)   dx = Trilu(dy, k, upper)              (k gets none)
 *   Hardmax: y = one-hot of the argmax along axis    no gradient: piecewise constant, zero almost everywhere (like
 *                                                    Floor or ArgMax); parameters reached only through it get none
 *
 * Max/Min ties go to the FIRST input holding the extreme value (PyTorch's maximum/minimum split a tie evenly
 * instead; either is a valid subgradient, and one winner keeps the sum of the gradients equal to dy). The "no
 * earlier winner" condition is a running Or of the earlier equality masks, so only inputs up to the last one
 * needed are compared.
 *
 * Clip's bounds are optional inputs 1 and 2 from opset 11 and the `min`/`max` attributes before (an absent bound is
 * unbounded, so it adds no condition). At a bound itself the subgradient 0 is used, as for Relu and as PyTorch's
 * hardtanh/ReLU6 do (PyTorch's clamp would pass it; the value only differs on a measure-zero set).
 */
import type { Value } from '../../ir/value.js';
import type { GradContext, GradientRule } from '../types.js';

export const whereGrad: GradientRule = {
  opTypes: ['Where'],
  grad(ctx) {
    const { b } = ctx;
    const dz = ctx.dy(0)!;
    const cond = ctx.x(0);
    const zero = b.scalar(0);
    const dx = ctx.needs(1) ? ctx.unbroadcast(b.op('Where', [cond, dz, zero]), 1) : null;
    const dy = ctx.needs(2) ? ctx.unbroadcast(b.op('Where', [cond, zero, dz]), 2) : null;
    return [null, dx, dy];
  },
};

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

export const clipGrad: GradientRule = {
  opTypes: ['Clip'],
  grad(ctx) {
    const rest = ctx.node.inputs.slice(1).map(() => null);
    if (!ctx.needs(0)) return [null, ...rest];
    const { b } = ctx;
    const x = ctx.x(0);
    const [lo, hi] = bounds(ctx);
    const inside = [lo && b.op('Greater', [x, lo]), hi && b.op('Less', [x, hi])].filter((m): m is Value => m !== null);
    if (inside.length === 0) return [ctx.dy(0), ...rest];
    const mask = inside.length === 1 ? inside[0] : b.op('And', inside);
    return [b.op('Where', [mask, ctx.dy(0)!, b.scalar(0)]), ...rest];
  },
};

/** The lower and upper bound as values (null when unbounded), from inputs (opset 11+) or attributes. */
function bounds(ctx: GradContext): [Value | null, Value | null] {
  if (ctx.opset >= 11) return [ctx.hasInput(1) ? ctx.x(1) : null, ctx.hasInput(2) ? ctx.x(2) : null];
  const { attrs, b } = ctx;
  return [attrs.has('min') ? b.scalar(attrs.float('min')) : null, attrs.has('max') ? b.scalar(attrs.float('max')) : null];
}

export const triluGrad: GradientRule = {
  opTypes: ['Trilu'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null, null];
    const inputs = ctx.hasInput(1) ? [ctx.dy(0)!, ctx.x(1)] : [ctx.dy(0)!];
    return [ctx.b.op('Trilu', inputs, { upper: ctx.attrs.int('upper', 1) }), null];
  },
};

export const hardmaxGrad: GradientRule = {
  opTypes: ['Hardmax'],
  grad: () => [null],
};
