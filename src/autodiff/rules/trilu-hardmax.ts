/**
 * Trilu:   y = x masked to its upper (upper = 1) or lower triangle above/below diagonal k, per matrix of the last
 *          two axes. The mask is fixed, so dx = Trilu(dy, k, upper): the same mask applied to dy. k carries no
 *          gradient.
 * Hardmax: y = one-hot of the argmax along `axis`: piecewise constant, so its gradient is zero almost everywhere
 *          (like Floor or ArgMax); no contribution, and parameters reached only through it get none.
 */
import type { GradientRule } from '../types.js';

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
