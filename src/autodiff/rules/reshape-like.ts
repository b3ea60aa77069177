import type { GradientRule } from '../types.js';
import { reshapeLike } from '../shapes.js';

/**
 * Ops that only reshape (same elements, same order): Reshape, Flatten, Squeeze, Unsqueeze.
 *   dx = Reshape(dy, shape(x))   (a constant shape when x's is static, Shape(x) otherwise)
 * Their shape/axes inputs get no gradient.
 */
export const reshapeLikeGrad: GradientRule = {
  opTypes: ['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze'],
  grad(ctx) {
    const dx = ctx.needs(0) ? reshapeLike(ctx, ctx.dy(0)!, ctx.x(0)) : null;
    return [dx, ...ctx.node.inputs.slice(1).map(() => null)];
  },
};
