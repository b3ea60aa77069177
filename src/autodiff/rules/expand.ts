import type { GradientRule } from '../types.js';

/** y = Expand(x, shape) (numpy broadcasting of x to shape): dx = unbroadcast(dy); the shape input gets none. */
export const expandGrad: GradientRule = {
  opTypes: ['Expand'],
  grad: (ctx) => [ctx.needs(0) ? ctx.unbroadcast(ctx.dy(0)!, 0) : null, null],
};
