/**
 * (Y, I) = MaxPool(X): Y[n, c, o] = X[n, c, argmax over window(o)], and I holds that argmax as an index into X
 * flattened whole (values in [0, N*C*prod(S)), row-major, storage_order 0).
 *
 *   dX = zeros(numel(X)) with dY[o] added at I[o] for every o (ScatterElements, reduction 'add'), reshaped to X.
 *
 * Overlapping windows (stride < kernel extent) can pick the same element twice, so the scatter must add: reduction
 * exists from opset 16. Below it only non-overlapping windows (each element in at most one window) are accepted.
 * Ties are broken as the forward run broke them (I is the forward's own choice), ceil_mode included for free.
 * Without an Indices output the rule re-runs MaxPool with one; exposeMaxPoolIndices (../forward-outputs.ts) lets
 * the compiler give the forward node that output instead.
 */
import { OPSET_UPGRADE_HINT, RegraftError } from '../../errors.js';
import type { AttrValue } from '../../ir/attributes.js';
import type { Node } from '../../ir/node.js';
import type { Value } from '../../ir/value.js';
import type { GradContext, GradientRule } from '../types.js';
import { windowAttrs } from '../windows.js';

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
    const zeros = b.op('ConstantOfShape', [b.op('Reshape', [b.op('Size', [x]), flat])]);
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
