/**
 * Y = Resize(X) (or the older Upsample) in mode 'nearest' or 'linear'. Both are separable and linear in X: along
 * every resized axis j, Y = A_j X with A_j a constant [out_j, in_j] matrix of interpolation weights
 * (../resize-matrix.ts), so
 *
 *   dX = A_j^T dY, applied along every resized axis in turn
 *
 * emitted as Reshape(dY, [pre, out_j, post]) -> MatMul(A_j^T, .) -> [pre, in_j, post] (MatMul(., A_j) when j is
 * the last axis). A_j needs X's static shape and constant scales or sizes.
 *
 * Cheaper special case, kept first: nearest upsampling by whole factors f_j whose index mapping is a block copy
 * (every output o reads input floor(o / f)) sums each block (../block-sum.ts):
 *   dX[i] = sum_{k < f} dY[i f + k]:  dY reshaped to [d_0, f_0, d_1, f_1, ...], summed over the f axes
 * That path also works when X's shape is known only at run time.
 *
 * Refused: cubic mode, tf_crop_and_resize and half_pixel_symmetric, run-time scales or sizes, the 'axes'
 * attribute, keep_aspect_ratio_policy other than 'stretch', exclude_outside = 1 and antialias = 1 when
 * downscaling (both change linear's weights).
 */
import { RegraftError } from '../../errors.js';
import { constantFloats } from '../../ir/constant.js';
import { numel } from '../../ir/tensor.js';
import type { Value } from '../../ir/value.js';
import type { GradContext, GradientRule } from '../types.js';
import { sumBlocks } from '../block-sum.js';
import { coordinateTransform, isIdentity, nearestRounding, nearestSource, resizeMatrix, type ResizeAxis, type ResizeSampling } from '../resize-matrix.js';
import { requireRank, staticDims } from '../shapes.js';

export const resizeGrad: GradientRule = {
  opTypes: ['Resize', 'Upsample'],
  grad(ctx) {
    const rest = ctx.node.inputs.slice(1).map(() => null);
    if (!ctx.needs(0)) return [null, ...rest];
    const sampling = readSampling(ctx);
    if (ctx.attrs.has('axes')) throw refuse(ctx, "the 'axes' attribute (give scales or sizes for every axis)");
    const x = ctx.x(0);
    const rank = requireRank(ctx, x);
    const inSizes = staticDims(ctx, x);
    const { scales, outSizes } = readScales(ctx, rank, inSizes);
    checkWeightOptions(ctx, sampling, scales);
    const dy = ctx.dy(0)!;
    if (isBlockCopy(sampling, scales, inSizes ?? (sampling.sizeDependent ? undefined : 'any'))) return [sumBlocks(ctx, dy, inSizes ?? ctx.shapeOf(x), scales, 'inner', rank), ...rest];
    if (!inSizes) throw refuse(ctx, `'${x.name}' without a static shape (only nearest upsampling by whole factors works without one)`);
    const axes = inSizes.map((inSize, j): ResizeAxis => ({ inSize, outSize: outSizes?.[j] ?? outputSize(ctx, inSize, scales[j]), scale: scales[j] }));
    return [applyTransposedMatrices(ctx, dy, axes, sampling), ...rest];
  },
};

function refuse(ctx: GradContext, what: string): RegraftError {
  return new RegraftError(`${ctx.node.describe()}: the ${ctx.node.opType} gradient supports nearest and linear resizing with constant scales or sizes, not ${what}; replace the node or freeze the parameters before it`);
}

/** Opset 10 Resize and Upsample have no coordinate or nearest modes: they read asymmetric + floor. */
function isLegacy(ctx: GradContext): boolean {
  return ctx.node.opType === 'Upsample' || ctx.opset < 11;
}

/** The sampling rule, and whether its index mapping depends on the axis length (align_corners does). */
function readSampling(ctx: GradContext): ResizeSampling & { sizeDependent: boolean } {
  const mode = ctx.attrs.string('mode', 'nearest');
  if (mode !== 'nearest' && mode !== 'linear') throw refuse(ctx, `mode '${mode}'`);
  const legacy = isLegacy(ctx);
  const coordinateName = legacy ? 'asymmetric' : ctx.attrs.string('coordinate_transformation_mode', 'half_pixel');
  const roundingName = legacy ? 'floor' : ctx.attrs.string('nearest_mode', 'round_prefer_floor');
  const coordinate = coordinateTransform(coordinateName, mode);
  const rounding = nearestRounding(roundingName);
  if (!coordinate) throw refuse(ctx, `coordinate_transformation_mode '${coordinateName}' with mode '${mode}'`);
  if (!rounding) throw refuse(ctx, `nearest_mode '${roundingName}'`);
  return { mode, coordinate, rounding, sizeDependent: coordinateName === 'align_corners' };
}

/**
 * The scale of every axis, the one the coordinate formulas divide by: the constant scales as given, or
 * sizes / input size when constant sizes are given instead (which needs X's static shape; the sizes are then the
 * output sizes, taken as given rather than recomputed from the ratio).
 */
function readScales(ctx: GradContext, rank: number, inSizes: number[] | undefined): { scales: number[]; outSizes?: number[] } {
  const { opType } = ctx.node;
  const scalesIndex = isLegacy(ctx) ? 1 : 2;
  let scales: number[] | undefined;
  if (opType === 'Upsample' && ctx.attrs.has('scales')) scales = ctx.attrs.floatList('scales');
  else if (ctx.hasInput(scalesIndex)) {
    scales = constantFloats(ctx.x(scalesIndex));
    if (!scales) throw refuse(ctx, `scales '${ctx.x(scalesIndex).name}' computed at run time (make them a constant)`);
  }
  if (!scales || scales.length === 0) {
    const sizesValue = opType === 'Resize' && ctx.hasInput(3) ? ctx.x(3) : undefined;
    const sizes = sizesValue ? ctx.ints(sizesValue) : undefined;
    if (!sizesValue || !sizes) throw refuse(ctx, 'scales or sizes computed at run time (make them constants)');
    if (!inSizes) throw refuse(ctx, `sizes '${sizesValue.name}' on '${ctx.x(0).name}' without a static shape`);
    const policy = ctx.attrs.string('keep_aspect_ratio_policy', 'stretch');
    if (policy !== 'stretch') throw refuse(ctx, `keep_aspect_ratio_policy '${policy}'`);
    if (sizes.length !== rank || sizes.some((s) => !(s > 0))) throw refuse(ctx, `the sizes [${sizes.join(', ')}] for rank ${rank}`);
    return { scales: sizes.map((s, j) => s / inSizes[j]), outSizes: sizes };
  }
  if (scales.length !== rank || scales.some((s) => !(s > 0))) throw refuse(ctx, `the scales [${scales.join(', ')}] for rank ${rank}`);
  return { scales };
}

/** exclude_outside and antialias change linear's weights (renormalized taps, a wider filter when downscaling). */
function checkWeightOptions(ctx: GradContext, sampling: ResizeSampling, scales: number[]): void {
  if (sampling.mode !== 'linear') return;
  if (ctx.attrs.has('exclude_outside') && ctx.attrs.int('exclude_outside') !== 0) throw refuse(ctx, 'exclude_outside = 1 with mode linear');
  const antialias = ctx.attrs.has('antialias') && ctx.attrs.int('antialias') !== 0;
  if (antialias && scales.some((s) => s < 1)) throw refuse(ctx, 'antialias = 1 with downscaling');
}

/**
 * Whether nearest upsampling copies every input into a block of f outputs (output o reads floor(o / f)), for the
 * static input sizes or, with 'any', for whatever size X has at run time: the formulas that do not read the axis
 * length map outputs alike in every block, so a size of 4 decides for them.
 */
function isBlockCopy(sampling: ResizeSampling, scales: number[], inSizes: number[] | 'any' | undefined): boolean {
  if (!inSizes || sampling.mode !== 'nearest' || scales.some((f) => !Number.isInteger(f) || f < 1)) return false;
  return scales.every((f, j) => {
    const inSize = inSizes === 'any' ? 4 : inSizes[j];
    const axis: ResizeAxis = { inSize, outSize: inSize * f, scale: f };
    for (let o = 0; o < axis.outSize; o++) if (nearestSource(o, axis, sampling) !== Math.floor(o / f)) return false;
    return true;
  });
}

/** floor(in * scale), computed in float32 as onnxruntime does (scales are float32). */
function outputSize(ctx: GradContext, inSize: number, scale: number): number {
  const out = Math.floor(Math.fround(inSize * scale));
  if (out < 1) throw refuse(ctx, `an empty output (scale ${scale} on an axis of ${inSize})`);
  return out;
}

/** dY with A_j^T applied along every axis that is resized (identity matrices are skipped). */
function applyTransposedMatrices(ctx: GradContext, dy: Value, axes: ResizeAxis[], sampling: ResizeSampling): Value {
  const { b } = ctx;
  const dims = axes.map((a) => a.outSize);
  let g = dy;
  axes.forEach((axis, j) => {
    const a = resizeMatrix(axis, sampling);
    if (isIdentity(a, axis)) return;
    const pre = numel(dims.slice(0, j));
    const post = numel(dims.slice(j + 1));
    const { inSize, outSize } = axis;
    if (post === 1) {
      // [pre, out] x A [out, in] -> [pre, in]
      const matrix = b.floatInit(`${ctx.node.name}_resize_weights`, Float32Array.from(a), [outSize, inSize]);
      g = b.op('MatMul', [b.op('Reshape', [g, b.ints([pre, outSize], 'shape')]), matrix]);
    } else {
      // A^T [in, out] x [pre, out, post] -> [pre, in, post] (MatMul broadcasts A^T over pre)
      const matrix = b.floatInit(`${ctx.node.name}_resize_weights_t`, transpose(a, outSize, inSize), [inSize, outSize]);
      g = b.op('MatMul', [matrix, b.op('Reshape', [g, b.ints([pre, outSize, post], 'shape')])]);
    }
    dims[j] = inSize;
  });
  return g === dy ? dy : b.op('Reshape', [g, b.ints(dims, 'shape')]);
}

function transpose(a: Float64Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
  return t;
}
