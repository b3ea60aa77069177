/**
 * Y = GatherElements(X, I, axis): Y[p] = X[p with its axis coordinate replaced by I[p]].
 *
 *   dX = zeros like X, with dY[p] added at the element Y[p] was read from: ScatterElements(0, I, dY, axis) with
 *        reduction 'add', since I may name one element several times. Reduction exists from opset 16; below it a
 *        duplicate index would be overwritten, so the rule refuses older models. I carries no gradient.
 */
import { OPSET_UPGRADE_HINT, RegraftError } from '../../errors.js';
import type { GradientRule } from '../types.js';
import { zerosLike } from '../shapes.js';

export const gatherElementsGrad: GradientRule = {
  opTypes: ['GatherElements'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null, null];
    if (ctx.opset < 16) {
      throw new RegraftError(
        `${ctx.node.describe()}: the GatherElements gradient needs ScatterElements with reduction 'add' (opset 16+), the model has opset ${ctx.opset}; ${OPSET_UPGRADE_HINT}`,
      );
    }
    const axis = ctx.attrs.int('axis', 0);
    const dx = ctx.b.op('ScatterElements', [zerosLike(ctx, ctx.x(0)), ctx.x(1), ctx.dy(0)!], { axis, reduction: 'add' });
    return [dx, null];
  },
};
