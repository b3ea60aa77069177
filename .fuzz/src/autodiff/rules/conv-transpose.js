/**
 * Y = ConvTranspose(X, W, B), spatial rank r >= 1: X [N, C, *S], W [C, M/g, *k], B [M], Y [N, M, *S'] with strides s,
 * pads (pb, pe), dilations d, output_padding op and g groups (input channel c is in group j = c / (C/g) and writes
 * output channels j*M/g + m', m' < M/g); S' = (S-1)*s + op + (k-1)*d + 1 - pb - pe:
 *
 *   Y[n, j*M/g + m', o] = B[.] + sum_{c in group j, i, t : i*s + t*d - pb = o} X[n, c, i] * W[c, m', t]
 *
 * It is the adjoint of Conv(., W), so the gradients mirror conv.ts with X and dY exchanged:
 *
 *   dB[m]        = sum_{n, o} dY[n, m, o]
 *   dX[n, c, i]  = sum_{m', t} dYpad[n, j*M/g + m', i*s + t*d] * W[c, m', t]      (dYpad: dY with pb zeros before)
 *                = Conv(dY, W) with the same s, d, g and pads (pb, pe). W [C, M/g, *k] is read as a Conv kernel with
 *                  C outputs and M/g inputs per group. Its output is floor(((S-1)*s + op)/s) + 1 = S (op < s), and
 *                  the end pad pe supplies the zeros for the outputs the forward cropped.
 *   dW[c, m', t] = sum_{n, i} dYpad[n, j*M/g + m', t*d + i*s] * X[n, c, i]
 *                : a Conv in which dY, arranged as [M/g, g*N, *S'] (batch m', channel (j, n)), is the input and X with
 *                  batch and channel swapped ([C, N, *S]) the kernel, strides and dilations exchanged, the same pads,
 *                  g groups. The result [M/g, C, *K'] is transposed to [C, M/g, *K'], K' = k + floor(op/d), and cut
 *                  to k when op >= d.
 *
 * auto_pad SAME_* and output_shape derive the pads from the sizes; they are refused (PyTorch exports explicit pads).
 */
import { RegraftError } from '../../errors.js';
import { channelsToBatch, sliceSpatialTo, spatialShapeOf, spatialSizes, windowAttrs } from '../windows.js';
export const convTransposeGrad = {
    opTypes: ['ConvTranspose'],
    grad(ctx) {
        const dy = ctx.dy(0);
        const r = spatialRank(ctx);
        if (ctx.attrs.has('output_shape')) {
            throw new RegraftError(`${ctx.node.describe()}: output_shape is not supported by the gradient rule; give explicit pads and output_padding instead`);
        }
        const autoPad = ctx.attrs.string('auto_pad', 'NOTSET');
        if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
            throw new RegraftError(`${ctx.node.describe()}: auto_pad=${autoPad} is not supported by the ConvTranspose gradient rule; re-export the model with explicit pads (PyTorch does by default)`);
        }
        const win = windowAttrs(ctx, r);
        const group = ctx.attrs.int('group', 1);
        const outputPadding = ctx.attrs.ints('output_padding', win.strides.map(() => 0));
        const dx = ctx.needs(0) ? ctx.b.op('Conv', [dy, ctx.x(1)], { strides: win.strides, dilations: win.dilations, pads: win.pads, group }) : null;
        const dw = ctx.needs(1) ? weightGrad(ctx, dy, win, group, r, outputPadding) : null;
        const spatialAxes = Array.from({ length: r }, (_, i) => i + 2);
        const db = ctx.hasInput(2) && ctx.needs(2) ? ctx.b.reduceSum(dy, [0, ...spatialAxes], false) : null;
        return [dx, dw, db];
    },
};
function spatialRank(ctx) {
    const w = ctx.rank(ctx.x(1)) ?? ctx.rank(ctx.x(0));
    if (w !== undefined)
        return w - 2;
    for (const name of ['kernel_shape', 'strides', 'dilations', 'output_padding'])
        if (ctx.attrs.has(name))
            return ctx.attrs.ints(name).length;
    throw new RegraftError(`${ctx.node.describe()}: the spatial rank is unknown (weight '${ctx.x(1).name}' has no static shape and the node no kernel_shape); add kernel_shape to the node`);
}
function weightGrad(ctx, dy, win, group, r, outputPadding) {
    const { b } = ctx;
    const x = ctx.x(0);
    const spatial = Array.from({ length: r }, (_, i) => i + 2);
    const swap = [1, 0, ...spatial];
    const dyt = channelsToBatch(ctx, dy, group, r, () => spatialShapeOf(ctx, dy));
    const xt = b.op('Transpose', [x], { perm: swap });
    const z = b.op('Conv', [dyt, xt], { strides: win.dilations, dilations: win.strides, pads: win.pads, group });
    const zt = b.op('Transpose', [z], { perm: swap });
    if (outputPadding.every((p, i) => p < win.dilations[i]))
        return zt;
    return sliceSpatialTo(ctx, zt, spatialSizes(ctx, ctx.x(1)), r);
}
