/**
 * Y = AveragePool(X), kernel k, strides s, pads (pb, pe), dilations 1:
 *
 *   Y[n, c, o] = (1 / D(o)) * sum_{t in window(o), inside X} X[n, c, o*s - pb + t]
 *   dX[n, c, i] = sum_{o : i in window(o)} dY[n, c, o] / D(o)
 *
 * The sum over windows is a ConvTranspose of dY/D with an all-ones kernel, run per (n, c) plane (dY reshaped to
 * [N*C, 1, *S'], so the channel count need not be static) and cut to X's size as in the Conv rule.
 * The divisor D(o):
 * - count_include_pad=1, ceil_mode=0: prod(k), a constant.
 * - count_include_pad=0: the number of X elements in the window.
 * - count_include_pad=1, ceil_mode=1: the number of window elements inside the padded extent [-pb, S + pe) (a last
 *   window that runs past the end pad is cut there, as onnxruntime does).
 * The counts are a Conv of ones (over X, or over the padded extent) with the ones kernel; extra end padding of
 * s - 1 lets that Conv reach the ceil_mode windows, and a Slice keeps Y's windows.
 * auto_pad SAME_* becomes explicit pads when X's spatial sizes are static (nn-util.ts sameAutoPads).
 */
import { RegraftError } from '../../errors.js';
import { floatTensor } from '../../ir/tensor.js';
import type { Value } from '../../ir/value.js';
import type { GradContext, GradientRule } from '../types.js';
import { beginPadsOnly, sliceSpatialTo, spatialSizes, windowAttrs, type WindowAttrs } from '../windows.js';

export const averagePoolGrad: GradientRule = {
  opTypes: ['AveragePool'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null];
    const { b } = ctx;
    const kernel = ctx.attrs.ints('kernel_shape');
    const r = kernel.length;
    const win = windowAttrs(ctx, r, kernel);
    if (win.dilations.some((d) => d !== 1)) {
      throw new RegraftError(`${ctx.node.describe()}: dilated AveragePool is not supported by the gradient rule; use dilations of 1`);
    }
    const ceil = ctx.attrs.int('ceil_mode', 0) === 1;
    const includePad = ctx.attrs.int('count_include_pad', 0) === 1;
    const onesKernel = b.floatInit('pool_ones_kernel', new Float32Array(kernel.reduce((a, n) => a * n, 1)).fill(1), [1, 1, ...kernel]);
    const dy = ctx.dy(0)!;
    const y = ctx.y(0);
    const x = ctx.x(0);

    const scaled = includePad && !ceil
      ? b.mul(dy, b.scalar(1 / kernel.reduce((a, n) => a * n, 1)))
      : b.div(dy, windowCounts(ctx, win, onesKernel, includePad));
    // One plane per (n, c): [N*C, 1, *S'] -> ConvTranspose -> [N*C, 1, >= *S] -> cut to S -> [N, C, *S].
    const planes = b.op('Reshape', [scaled, b.op('Concat', [b.ints([-1, 1]), spatialSizes(ctx, y)], { axis: 0 })]);
    const spread = b.op('ConvTranspose', [planes, onesKernel], {
      strides: win.strides,
      pads: beginPadsOnly(win.pads),
      output_padding: win.strides.map((s) => s - 1),
    });
    const cut = sliceSpatialTo(ctx, spread, spatialSizes(ctx, x), r);
    return [b.op('Reshape', [cut, ctx.shapeOf(x)])];
  },
};

/** D(o) as a [1, 1, *S'] tensor: window elements inside X (or inside the padded extent when pads count). */
function windowCounts(ctx: GradContext, win: WindowAttrs, onesKernel: Value, includePad: boolean): Value {
  const { b } = ctx;
  const r = win.strides.length;
  const extent = includePad
    ? b.add(spatialSizes(ctx, ctx.x(0)), b.ints(win.pads.slice(0, r).map((p, i) => p + win.pads[i + r]), 'padded_extra'))
    : spatialSizes(ctx, ctx.x(0));
  const ones = b.op('ConstantOfShape', [b.op('Concat', [b.ints([1, 1]), extent], { axis: 0 })], { value: floatTensor('value', [1], [1]) });
  const begin = includePad ? win.pads.slice(0, r).map(() => 0) : win.pads.slice(0, r);
  const end = win.strides.map((s, i) => (includePad ? 0 : win.pads[i + r]) + s - 1);
  const counts = b.op('Conv', [ones, onesKernel], { strides: win.strides, pads: [...begin, ...end] });
  return sliceSpatialTo(ctx, counts, spatialSizes(ctx, ctx.y(0)), r);
}
