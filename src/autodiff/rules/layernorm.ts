/**
 * (Y, Mean, InvStdDev) = LayerNormalization(X, scale, B) (opset 17), normalized axes A = {axis, ..., r-1}
 * (H = their element count), leading axes L = {0, ..., axis-1}; scale and B broadcast over L (and may broadcast
 * within A too):
 *   mu = mean_A(X), inv = 1 / sqrt(mean_A((X - mu)^2) + eps), xhat = (X - mu) * inv, Y = xhat * scale + B
 *
 *   dB     = sum_L(dY), then summed down to B's shape
 *   dScale = sum_L(dY * xhat), then summed down to scale's shape
 *   dX     = inv * (g - mean_A(g) - xhat * mean_A(g * xhat)),   g = dY * scale
 * Mean and InvStdDev are taken from the node's outputs when it has them (they are the forward's mu and inv).
 */
import { RegraftError } from '../../errors.js';
import type { Value } from '../../ir/value.js';
import type { GradientRule } from '../types.js';
import { unbroadcast } from '../unbroadcast.js';
import { reduceMean } from '../axes.js';

export const layerNormGrad: GradientRule = {
  opTypes: ['LayerNormalization'],
  grad(ctx) {
    const { b } = ctx;
    if (ctx.dy(1) || ctx.dy(2)) {
      throw new RegraftError(`${ctx.node.describe()}: the Mean/InvStdDev outputs reach the loss; the gradient rule differentiates only Y, so compute statistics for the loss separately`);
    }
    const dy = ctx.dy(0)!;
    const x = ctx.x(0);
    const xShape = ctx.shape(x);
    if (!xShape) {
      throw new RegraftError(`${ctx.node.describe()}: the rank of input '${x.name}' is unknown, so the normalized axes are too; declare the model's input shapes (value_info)`);
    }
    const rank = xShape.length;
    const rawAxis = ctx.attrs.int('axis', -1);
    const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
    const normAxes = Array.from({ length: rank - axis }, (_, i) => axis + i);
    const leadAxes = Array.from({ length: axis }, (_, i) => i);

    const mu = ctx.node.outputs[1] ?? reduceMean(ctx, x, normAxes, true);
    const centered = b.sub(x, mu);
    const inv = ctx.node.outputs[2] ?? b.op('Reciprocal', [b.op('Sqrt', [b.add(reduceMean(ctx, b.mul(centered, centered), normAxes, true), b.scalar(ctx.attrs.float('epsilon', 1e-5)))])]);
    const xhat = b.mul(centered, inv);

    // Sum over the leading axes, then over whatever scale/B broadcast within the normalized axes.
    const toParam = (g: Value, i: number) => {
      const summed = leadAxes.length > 0 ? b.reduceSum(g, leadAxes, false) : g;
      const param = ctx.x(i);
      return unbroadcast({ b, grad: summed, resultShape: xShape.slice(axis), input: param, inputShape: ctx.shape(param), opset: ctx.opset, shapeOf: ctx.shapeOf, where: ctx.node.describe() });
    };
    const dScale = ctx.needs(1) ? toParam(b.mul(dy, xhat), 1) : null;
    const dB = ctx.hasInput(2) && ctx.needs(2) ? toParam(dy, 2) : null;
    let dX: Value | null = null;
    if (ctx.needs(0)) {
      const g = b.mul(dy, ctx.x(1));
      const gMean = reduceMean(ctx, g, normAxes, true);
      const projMean = reduceMean(ctx, b.mul(g, xhat), normAxes, true);
      dX = b.mul(inv, b.sub(b.sub(g, gMean), b.mul(xhat, projMean)));
    }
    return [dX, dScale, dB];
  },
};
