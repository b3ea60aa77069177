/**
 * Y = Conv(X, W, B), any spatial rank r >= 1: X [N, C, *S], W [M, C/g, *k], B [M], Y [N, M, *S'] with strides s,
 * pads (pb, pe), dilations d and g groups (m's group is j = m / (M/g); it reads channels j*C/g .. (j+1)*C/g - 1):
 *
 *   Y[n, m, o] = B[m] + sum_{c, t} W[m, c, t] * Xpad[n, j*C/g + c, o*s + t*d]
 *
 *   dB[m]       = sum_{n, o} dY[n, m, o]
 *   dX          = ConvTranspose(dY, W) with the same s, d, g and pads: the adjoint of the correlation (with stride 1,
 *                 one group and enough channels a Conv of the flipped kernel, see flippedKernelPads). Its output
 *                 is (S'-1)*s + (k-1)*d + 1 - pb - pe, which falls short of S by (S + pb + pe - keff) % s when the
 *                 last window does not reach the end; output_padding (or a Slice) restores X's exact size.
 *   dW[m, c, t] = sum_{n, o} dY[n, m, o] * Xpad[n, j*C/g + c, t*d + o*s]
 *               : a Conv in which X with batch and channel swapped ([C/g, g*N, *S]) is the input and dY swapped
 *                 ([M, N, *S']) the kernel, with strides and dilations exchanged and the same pads, g groups so that
 *                 output channel m only meets its own group's slice of X. The result [C/g, M, *K'] is transposed
 *                 to [M, C/g, *K'] and sliced to k (K' >= k: the last pe - (S+pb+pe-keff) % s rows are unused).
 *                 With one group, 2-D, many channels and a small kernel, one Gemm over explicit im2col columns
 *                 instead (im2colWeightGrad), which onnxruntime runs faster.
 *
 * auto_pad SAME_* becomes explicit pads when X's spatial sizes are static (../windows.ts sameAutoPads).
 */
import { RegraftError } from '../../errors.js';
import type { Value } from '../../ir/value.js';
import type { GradContext, GradientRule } from '../types.js';
import { beginPadsOnly, channelsToBatch, sliceSpatialTo, spatialShapeOf, spatialSizes, staticSpatialSizes, windowAttrs, type WindowAttrs } from '../windows.js';

export const convGrad: GradientRule = {
  opTypes: ['Conv'],
  grad(ctx) {
    const dy = ctx.dy(0)!;
    const r = spatialRank(ctx);
    const win = windowAttrs(ctx, r, kernelSizes(ctx, r));
    const group = ctx.attrs.int('group', 1);
    const spatialAxes = Array.from({ length: r }, (_, i) => i + 2);
    const dx = ctx.needs(0) ? convInputGrad(ctx, dy, win, group, r) : null;
    const dw = ctx.needs(1) ? convWeightGrad(ctx, dy, win, group, r) : null;
    const db = ctx.hasInput(2) && ctx.needs(2) ? ctx.b.reduceSum(dy, [0, ...spatialAxes], false) : null;
    return [dx, dw, db];
  },
};

/** The number of spatial axes, from W's static shape or the attributes that list one entry per axis. */
function spatialRank(ctx: GradContext): number {
  const w = ctx.shape(ctx.x(1));
  if (w) return w.length - 2;
  for (const name of ['kernel_shape', 'strides', 'dilations']) if (ctx.attrs.has(name)) return ctx.attrs.ints(name).length;
  if (ctx.attrs.has('pads')) return ctx.attrs.ints('pads').length / 2;
  throw new RegraftError(`${ctx.node.describe()}: the spatial rank is unknown (weight '${ctx.x(1).name}' has no static shape and the node no kernel_shape); add kernel_shape to the node`);
}

/** Kernel sizes k, statically when known. */
function kernelSizes(ctx: GradContext, r: number): number[] | undefined {
  const w = ctx.shape(ctx.x(1));
  if (w && w.slice(2).every((d) => typeof d === 'number')) return w.slice(2) as number[];
  if (ctx.attrs.has('kernel_shape')) {
    const k = ctx.attrs.ints('kernel_shape');
    if (k.length === r) return k;
  }
  return undefined;
}

function convInputGrad(ctx: GradContext, dy: Value, win: WindowAttrs, group: number, r: number): Value {
  const x = ctx.x(0);
  const w = ctx.x(1);
  const k = kernelSizes(ctx, r);
  const flipped = k && flippedKernelPads(ctx, win, group, k);
  if (flipped) return ctx.b.op('Conv', [dy, flippedKernel(ctx, w, k, r)], { dilations: win.dilations, pads: flipped });
  const inSizes = staticSpatialSizes(ctx, x);
  const common = { strides: win.strides, dilations: win.dilations, group };
  if (k && inSizes) {
    // Static sizes: the exact output_padding gives X's shape directly.
    const outputPadding = inSizes.map((n, i) => (n + win.pads[i] + win.pads[i + r] - ((k[i] - 1) * win.dilations[i] + 1)) % win.strides[i]);
    return ctx.b.op('ConvTranspose', [dy, w], { ...common, pads: win.pads, output_padding: outputPadding });
  }
  // Run-time sizes: lay the result out from X's first element with the largest legal output_padding, which is
  // never shorter than X (the windows cover X up to less than one stride), then cut it to X's size.
  const wide = ctx.b.op('ConvTranspose', [dy, w], { ...common, pads: beginPadsOnly(win.pads), output_padding: win.strides.map((s) => s - 1) });
  return sliceSpatialTo(ctx, wide, spatialSizes(ctx, x), r);
}

/**
 * Input channels below which dX stays a ConvTranspose although the flipped kernel would apply. The flipped-kernel
 * Conv is one GEMM per image with C rows, which onnxruntime runs far below speed for so few rows: on LeNet-5's
 * second layer (C 6, 16 filters 5x5, 14x14, batch 64) it took 3.6 ms against ConvTranspose's 0.7 at one thread,
 * 2.1-2.4 against 1.5-1.6 at two. With 8 channels (16 filters 3x3, 28x28) ConvTranspose was faster at one thread
 * (3.4 vs 4.4-5.1 ms) and slower at two (4.2 vs 2.7-3.2); with 64 (ResNet's first stage) the Conv is as fast at
 * one thread and about twice as fast at two, since ConvTranspose's col2im runs on one thread.
 */
export const MIN_FLIPPED_KERNEL_CHANNELS = 8;

/**
 * With stride 1 and one group, the adjoint of the correlation is itself a correlation: dX = Conv(dY, W') with W'
 * the kernel with its two channel axes swapped and its window reversed, and pads d (k - 1) - p on each side (which
 * gives X's size back). onnxruntime's Conv runs this 5-25% faster than its ConvTranspose on ResNet's 3x3 layers
 * (measured one thread, batch 32, 64 to 512 channels). The pads of that Conv, or undefined where this does not
 * apply: strides above 1, groups, a pad wider than the dilated window (a negative pad), opset < 10 (Slice with
 * steps, which reverses the window), or fewer than MIN_FLIPPED_KERNEL_CHANNELS input channels.
 */
function flippedKernelPads(ctx: GradContext, win: WindowAttrs, group: number, k: number[]): number[] | undefined {
  if (group !== 1 || ctx.opset < 10 || win.strides.some((s) => s !== 1)) return undefined;
  const channels = ctx.shape(ctx.x(1))?.[1];
  if (typeof channels === 'number' && channels < MIN_FLIPPED_KERNEL_CHANNELS) return undefined;
  const r = k.length;
  const pads = win.pads.map((p, i) => win.dilations[i % r] * (k[i % r] - 1) - p);
  return pads.every((p) => p >= 0) ? pads : undefined;
}

/** W [M, C, *k] as [C, M, *k] with every spatial axis reversed (a 1x1 kernel is only transposed). */
function flippedKernel(ctx: GradContext, w: Value, k: number[], r: number): Value {
  const { b } = ctx;
  const swapped = b.op('Transpose', [w], { perm: [1, 0, ...Array.from({ length: r }, (_, i) => i + 2)] });
  const axes = k.map((n, i) => (n > 1 ? i + 2 : -1)).filter((a) => a >= 0);
  if (axes.length === 0) return swapped;
  const ends = axes.map(() => -(2 ** 62));
  return b.op('Slice', [swapped, b.ints(axes.map(() => -1), 'flip_starts'), b.ints(ends, 'flip_ends'), b.ints(axes, 'flip_axes'), b.ints(axes.map(() => -1), 'flip_steps')]);
}

function convWeightGrad(ctx: GradContext, dy: Value, win: WindowAttrs, group: number, r: number): Value {
  const { b } = ctx;
  const x = ctx.x(0);
  const plan = im2colWeightGradPlan(ctx, win, group, r);
  if (plan) return im2colWeightGrad(ctx, dy, win, plan);
  const swap = [1, 0, ...Array.from({ length: r }, (_, i) => i + 2)];
  const xt = channelsToBatch(ctx, x, group, r, () => spatialSizes(ctx, x));
  const dyt = b.op('Transpose', [dy], { perm: swap });
  const z = b.op('Conv', [xt, dyt], { strides: win.dilations, dilations: win.strides, pads: win.pads, group });
  const zt = b.op('Transpose', [z], { perm: swap });
  const k = kernelSizes(ctx, r);
  const kPrime = reachedKernelSizes(ctx, win, r, k);
  if (k && kPrime && k.every((n, i) => n === kPrime[i])) return zt;
  const kValue = k ? b.ints(k, 'kernel') : spatialShapeOf(ctx, ctx.x(1));
  return sliceSpatialTo(ctx, zt, kValue, r);
}

/** K' of the weight-gradient Conv, when every size is static. */
function reachedKernelSizes(ctx: GradContext, win: WindowAttrs, r: number, k: number[] | undefined): number[] | undefined {
  const inSizes = staticSpatialSizes(ctx, ctx.x(0));
  if (!k || !inSizes) return undefined;
  return inSizes.map((n, i) => {
    const padded = n + win.pads[i] + win.pads[i + r];
    const outSize = Math.floor((padded - ((k[i] - 1) * win.dilations[i] + 1)) / win.strides[i]) + 1;
    return Math.floor((padded - ((outSize - 1) * win.strides[i] + 1)) / win.dilations[i]) + 1;
  });
}

/**
 * Where the weight gradient is one Gemm over explicit im2col columns rather than the Conv above, which
 * onnxruntime runs as C/g GEMMs of M x (N*S') by (N*S') x k'. With many input channels and a small kernel those
 * are many thin products: on ResNet's first stage (C 64, 3x3, 8x8, batch 32) the Conv took 4.1 ms at one thread and
 * 4.2-4.7 at two, the Gemm form 2.9 and 2.3; with C 16-128 and 3x3 or 1x1 kernels it was 1.5-3.7x as fast. With few
 * channels or a large kernel the slices cost more than they save (C 6 or 16 with 5x5, C 3 with 7x7: 1.2-1.7x as
 * slow), and the columns take C * k * N * S' floats, which MAX_IM2COL_VALUES bounds.
 */
export const MIN_IM2COL_CHANNELS = 16;
export const MAX_IM2COL_TAPS = 9;
export const MAX_IM2COL_VALUES = 2 ** 23;

interface Im2colPlan {
  batch: number;
  channels: number;
  filters: number;
  kernel: [number, number];
  out: [number, number];
}

/** The static sizes the im2col weight gradient needs, or undefined where the Conv form is kept. */
function im2colWeightGradPlan(ctx: GradContext, win: WindowAttrs, group: number, r: number): Im2colPlan | undefined {
  if (r !== 2 || group !== 1 || ctx.opset < 11 || win.pads.some((p) => p < 0)) return undefined;
  const x = ctx.shape(ctx.x(0));
  const w = ctx.shape(ctx.x(1));
  const y = ctx.shape(ctx.node.output(0));
  const dims = [x?.[0], x?.[1], w?.[0], w?.[2], w?.[3], y?.[2], y?.[3]];
  if (!dims.every((d): d is number => typeof d === 'number')) return undefined;
  const [n, c, m, kh, kw, ho, wo] = dims;
  if (c < MIN_IM2COL_CHANNELS || kh * kw > MAX_IM2COL_TAPS || c * kh * kw * n * ho * wo > MAX_IM2COL_VALUES) return undefined;
  return { batch: n, channels: c, filters: m, kernel: [kh, kw], out: [ho, wo] };
}

/**
 * dW = dY' cols^T: dY [N, M, Ho, Wo] as dY' [M, N*Ho*Wo], and cols [C*kh*kw, N*Ho*Wo] holding, in row (c, i, j),
 * the input element that tap (i, j) of each output position reads from channel c (X padded, then one strided
 * Slice per tap). Rows run in W's (c, i, j) order, so the [M, C*kh*kw] product is W's gradient reshaped.
 */
function im2colWeightGrad(ctx: GradContext, dy: Value, win: WindowAttrs, plan: Im2colPlan): Value {
  const { b } = ctx;
  const { batch, channels, filters, kernel, out } = plan;
  const columns = batch * out[0] * out[1];
  let xt = b.op('Transpose', [ctx.x(0)], { perm: [1, 0, 2, 3] });
  if (win.pads.some((p) => p > 0)) xt = b.op('Pad', [xt, b.ints([0, 0, win.pads[0], win.pads[1], 0, 0, win.pads[2], win.pads[3]], 'im2col_pads')]);
  const taps: Value[] = [];
  const tapShape = b.ints([channels, 1, columns], 'im2col_tap');
  for (let i = 0; i < kernel[0]; i++) {
    for (let j = 0; j < kernel[1]; j++) {
      const starts = [i * win.dilations[0], j * win.dilations[1]];
      const ends = starts.map((st, a) => st + (out[a] - 1) * win.strides[a] + 1);
      const tap = b.op('Slice', [xt, b.ints(starts, 'tap_starts'), b.ints(ends, 'tap_ends'), b.ints([2, 3], 'tap_axes'), b.ints(win.strides, 'tap_steps')]);
      taps.push(b.op('Reshape', [tap, tapShape]));
    }
  }
  const stacked = taps.length === 1 ? taps[0] : b.op('Concat', taps, { axis: 1 });
  const cols = b.op('Reshape', [stacked, b.ints([-1, columns], 'im2col_columns')]);
  const dyRows = b.op('Reshape', [b.op('Transpose', [dy], { perm: [1, 0, 2, 3] }), b.ints([filters, columns], 'dy_rows')]);
  const dw = b.op('Gemm', [dyRows, cols], { transB: 1 });
  return b.op('Reshape', [dw, b.ints([filters, channels, kernel[0], kernel[1]], 'weight_shape')]);
}
