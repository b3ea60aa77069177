/**
 * Pooling over the spatial axes S of X [N, C, *S].
 *
 * (Y, I) = MaxPool(X): Y[n, c, o] = X[n, c, argmax over window(o)], and I holds that argmax as an index into X
 * flattened whole (values in [0, N*C*prod(S)), row-major, storage_order 0).
 *   dX = zeros(numel(X)) with dY[o] added at I[o] for every o (ScatterElements, reduction 'add'), reshaped to X.
 * Overlapping windows (stride < kernel extent) can pick the same element twice, so the scatter must add: reduction
 * exists from opset 16. Below it only non-overlapping windows (each element in at most one window) are accepted.
 * Ties are broken as the forward run broke them (I is the forward's own choice), ceil_mode included for free.
 * Without an Indices output the rule re-runs MaxPool with one; exposeMaxPoolIndices (../forward-outputs.ts) lets
 * the compiler give the forward node that output instead.
 *
 * Y = AveragePool(X), kernel k, strides s, pads (pb, pe), dilations 1:
 *   Y[n, c, o] = (1 / D(o)) * sum_{t in window(o), inside X} X[n, c, o*s - pb + t]
 *   dX[n, c, i] = sum_{o : i in window(o)} dY[n, c, o] / D(o)
 * The sum over windows is a ConvTranspose of dY/D with an all-ones kernel, run per (n, c) plane (dY reshaped to
 * [N*C, 1, *S'], so the channel count need not be static) and cut to X's size as in the Conv rule.
 * The divisor D(o):
 * - count_include_pad=1, ceil_mode=0: prod(k), a constant.
 * - count_include_pad=0: the number of X elements in the window.
 * - count_include_pad=1, ceil_mode=1: the number of window elements inside the padded extent [-pb, S + pe) (a last
 *   window that runs past the end pad is cut there, as onnxruntime does).
 * The counts are a Conv of ones (over X, or over the padded extent) with the ones kernel; extra end padding of
 * s - 1 lets that Conv reach the ceil_mode windows, and a Slice keeps Y's windows.
 *
 * Y = GlobalAveragePool(X): Y [N, C, 1, ..., 1] = mean over S of X[n, c].
 *   dX = Expand(dY, Shape(X)) / prod(S)
 *
 * Y = GlobalMaxPool(X): ReduceMax over S, kept as size-1 dims.
 *   dX = dY at the first maximum of each plane, 0 elsewhere (../extremes.ts)
 *
 * auto_pad SAME_* becomes explicit pads when X's spatial sizes are static (../windows.ts sameAutoPads).
 */
import { OPSET_UPGRADE_HINT, RegraftError } from '../../errors.js';
import type { AttrValue } from '../../ir/attributes.js';
import { DataType } from '../../ir/dtype.js';
import type { Node } from '../../ir/node.js';
import { numel } from '../../ir/tensor.js';
import type { Value } from '../../ir/value.js';
import { routeToExtreme } from '../extremes.js';
import { filled, requireRank } from '../shapes.js';
import type { GradContext, GradientRule } from '../types.js';
import { beginPadsOnly, sliceSpatialTo, spatialShapeOf, spatialSizes, windowAttrs, type WindowAttrs } from '../windows.js';

export const maxPoolGrad: GradientRule = {
  opTypes: ['MaxPool'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null];
    const { b } = ctx;
    const x = ctx.x(0);
    const kernel = ctx.attrs.ints('kernel_shape');
    if (ctx.attrs.int('storage_order', 0) !== 0) {
      throw new RegraftError(`${ctx.node.describe()}: storage_order=1 (column-major indices) is not supported by the gradient rule; use storage_order 0`);
    }
    const reduction = ctx.opset >= 16 ? { reduction: 'add' } : requireDisjointWindows(ctx, kernel);
    const flat = b.ints([-1], 'flat');
    // Not ConstantOfShape(Size(x)): both have schemas from opset 19/20 on that the CUDA provider has no kernel for.
    const zeros = b.op('Reshape', [filled(ctx, ctx.shapeOf(x)), flat]);
    const scattered = b.op('ScatterElements', [zeros, b.op('Reshape', [indicesOf(ctx), flat]), b.op('Reshape', [ctx.dy(0)!, flat])], { axis: 0, ...reduction });
    return [b.op('Reshape', [scattered, ctx.shapeOf(x)])];
  },
};

function indicesOf(ctx: GradContext): Value {
  const existing = ctx.node.outputs[1];
  if (existing) return existing;
  return ctx.b.ops('MaxPool', [ctx.x(0)], maxPoolAttrs(ctx.node), 2)[1];
}

/** Below opset 16 ScatterElements overwrites duplicates, which is exact only when no element is in two windows. */
function requireDisjointWindows(ctx: GradContext, kernel: number[]): Record<string, never> {
  const { strides, dilations } = windowAttrs(ctx, kernel.length, kernel);
  const overlapping = kernel.some((k, i) => strides[i] < (k - 1) * dilations[i] + 1);
  if (overlapping) {
    throw new RegraftError(
      `${ctx.node.describe()}: overlapping pooling windows need ScatterElements with reduction (opset 16+), the model has opset ${ctx.opset}; ${OPSET_UPGRADE_HINT}`,
    );
  }
  return {};
}

/** The attributes of a MaxPool node as builder attributes (for an equivalent node with the Indices output). */
function maxPoolAttrs(node: Node): Record<string, AttrValue | undefined> {
  const a = node.attrs;
  const ints = (name: string) => (a.has(name) ? a.ints(name) : undefined);
  const int = (name: string) => (a.has(name) ? a.int(name) : undefined);
  return {
    kernel_shape: a.ints('kernel_shape'),
    strides: ints('strides'),
    pads: ints('pads'),
    dilations: ints('dilations'),
    ceil_mode: int('ceil_mode'),
    storage_order: int('storage_order'),
    auto_pad: a.has('auto_pad') ? a.string('auto_pad') : undefined,
  };
}

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
    const onesKernel = b.floatInit('pool_ones_kernel', new Float32Array(numel(kernel)).fill(1), [1, 1, ...kernel]);
    const dy = ctx.dy(0)!;
    const y = ctx.y(0);
    const x = ctx.x(0);

    const scaled = includePad && !ceil
      ? b.mul(dy, b.scalar(1 / numel(kernel)))
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
  const ones = filled(ctx, b.op('Concat', [b.ints([1, 1]), extent], { axis: 0 }), 1);
  const begin = includePad ? win.pads.slice(0, r).map(() => 0) : win.pads.slice(0, r);
  const end = win.strides.map((s, i) => (includePad ? 0 : win.pads[i + r]) + s - 1);
  const counts = b.op('Conv', [ones, onesKernel], { strides: win.strides, pads: [...begin, ...end] });
  return sliceSpatialTo(ctx, counts, spatialSizes(ctx, ctx.y(0)), r);
}

export const globalAveragePoolGrad: GradientRule = {
  opTypes: ['GlobalAveragePool'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null];
    const x = ctx.x(0);
    const spread = ctx.b.op('Expand', [ctx.dy(0)!, ctx.shapeOf(x)]);
    return [ctx.b.mul(spread, inverseArea(ctx, x))];
  },
};

/** 1 / prod(S), a constant when the spatial sizes are static. */
function inverseArea(ctx: GradContext, x: Value): Value {
  const s = ctx.shape(x);
  if (s && s.length >= 2 && s.slice(2).every((d) => typeof d === 'number')) {
    return ctx.b.scalar(1 / numel(s.slice(2) as number[]));
  }
  const area = ctx.b.op('Cast', [ctx.b.op('ReduceProd', [spatialShapeOf(ctx, x)], { keepdims: 0 })], { to: DataType.FLOAT });
  return ctx.b.op('Reciprocal', [area]);
}

export const globalMaxPoolGrad: GradientRule = {
  opTypes: ['GlobalMaxPool'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null];
    const rank = requireRank(ctx, ctx.x(0));
    return [routeToExtreme(ctx, Array.from({ length: rank - 2 }, (_, i) => i + 2), rank, 'ArgMax')];
  },
};
