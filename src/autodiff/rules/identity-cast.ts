import { RegraftError } from '../../errors.js';
import { isFloatType } from '../../ir/dtype.js';
import type { GradientRule } from '../types.js';

/** y = x: dx = dy. */
export const identityGrad: GradientRule = {
  opTypes: ['Identity'],
  grad: (ctx) => [ctx.needs(0) ? ctx.dy(0) : null],
};

/**
 * y = Cast(x, to): dx = Cast(dy, to = type of x). The gradient travels in the input's float type (float16 weights
 * cast up to float32 get float16 gradients); a non-float input has no gradient.
 */
export const castGrad: GradientRule = {
  opTypes: ['Cast'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null];
    const x = ctx.x(0);
    const type = x.elemType;
    if (type === undefined) {
      throw new RegraftError(`${ctx.node.describe()}: the element type of '${x.name}' is unknown, so the gradient cannot be cast back; declare the input's type`);
    }
    if (!isFloatType(type)) return [null];
    if (type === ctx.y(0).elemType) return [ctx.dy(0)];
    return [ctx.b.op('Cast', [ctx.dy(0)], { to: type })];
  },
};

/** y = Sum(x_0, x_1, ...) (broadcasting): dx_i = unbroadcast(dy). */
export const sumGrad: GradientRule = {
  opTypes: ['Sum'],
  grad: (ctx) => ctx.node.inputs.map((_, i) => (ctx.needs(i) ? ctx.unbroadcast(ctx.dy(0)!, i) : null)),
};
