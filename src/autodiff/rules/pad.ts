/**
 * Y = Pad(X, pads, c, axes), mode 'constant': along each padded axis a with begin pad pb and end pad pe,
 *
 *   Y[..., o, ...] = X[..., o - pb, ...]   when 0 <= o - pb < dim(X, a),   c otherwise
 *
 * A negative pad crops instead (Y then starts -pb elements into X, or stops -pe elements before its end).
 *
 *   dX = Pad0(Slice(dY, starts = max(pb, 0), ends = dim(Y) - max(pe, 0)), begin = max(-pb, 0), end = max(-pe, 0))
 *        the Slice keeps the part of Y that came from X; the zero Pad restores the cropped parts of X, which
 *        reached no output.
 *   dc = sum(dY) - sum(Slice(dY, ...)): c fills exactly the positions the Slice drops.
 *
 * Pads are an input from opset 11 (an attribute before) and must be constants; `axes` (opset 18) restricts them
 * to some axes. Modes 'reflect', 'edge' and 'wrap' copy X into the border instead of c: their dX (pad-modes.ts) adds
 * each border region of dY back onto the X elements it was copied from; c then reaches no output (dc = 0).
 */
import { RegraftError } from '../../errors.js';
import { constantInts } from '../../ir/constant.js';
import type { Value } from '../../ir/value.js';
import type { GradContext, GradientRule } from '../types.js';
import { COPY_MODES, copyModeGrad, type CopyMode } from './pad-modes.js';
import { normalizeAxis } from '../axes.js';
import { TO_END, padZeros, requireRank, sliceAxes, zerosLike } from '../shapes.js';

interface PadSpec {
  /** The padded axes, non-negative. */
  axes: number[];
  begin: number[];
  end: number[];
}

export const padGrad: GradientRule = {
  opTypes: ['Pad'],
  grad(ctx) {
    const rest = ctx.node.inputs.slice(1).map(() => null);
    const needsX = ctx.needs(0);
    const needsC = ctx.opset >= 11 && ctx.hasInput(2) && ctx.needs(2);
    if (!needsX && !needsC) return [null, ...rest];
    const mode = ctx.attrs.string('mode', 'constant');
    const spec = padSpec(ctx);
    const dy = ctx.dy(0)!;
    if (mode !== 'constant') {
      if (!isCopyMode(mode)) {
        throw new RegraftError(`${ctx.node.describe()}: Pad mode '${mode}' is not an ONNX Pad mode (constant, ${COPY_MODES.join(', ')}); fix the node's mode`);
      }
      const dx = needsX ? copyModeGrad(ctx, dy, mode, spec.axes, spec.begin, spec.end) : null;
      const grads: (Value | null)[] = [dx, ...rest];
      if (needsC) grads[2] = zerosLike(ctx, ctx.x(2));
      return grads;
    }
    const kept = sliceFrom(ctx, dy, spec);
    const dx = needsX ? restoreCropped(ctx, kept, spec) : null;
    const grads: (Value | null)[] = [dx, ...rest];
    if (needsC) grads[2] = constantGrad(ctx, dy, kept);
    return grads;
  },
};

function isCopyMode(mode: string): mode is CopyMode {
  return (COPY_MODES as readonly string[]).includes(mode);
}

function padSpec(ctx: GradContext): PadSpec {
  const rank = requireRank(ctx, ctx.x(0));
  let pads: number[] | undefined;
  if (ctx.opset < 11) {
    pads = ctx.attrs.ints('pads');
  } else {
    pads = constantInts(ctx.x(1));
    if (!pads) throw new RegraftError(`${ctx.node.describe()}: pads '${ctx.x(1).name}' are computed at run time; the gradient needs them as a constant (an initializer or Constant)`);
  }
  let axes = Array.from({ length: rank }, (_, i) => i);
  if (ctx.opset >= 18 && ctx.hasInput(3)) {
    const given = constantInts(ctx.x(3));
    if (!given) throw new RegraftError(`${ctx.node.describe()}: axes '${ctx.x(3).name}' are computed at run time; the gradient needs them as a constant`);
    axes = given.map((a) => normalizeAxis(ctx, a, rank));
  }
  if (pads.length !== 2 * axes.length) {
    throw new RegraftError(`${ctx.node.describe()}: ${pads.length} pads for ${axes.length} axes (expected ${2 * axes.length}); fix the node's pads`);
  }
  return { axes, begin: pads.slice(0, axes.length), end: pads.slice(axes.length) };
}

/** The part of dY that came from X: positive pads cut away, cropped (negative) sides untouched. */
function sliceFrom(ctx: GradContext, dy: Value, spec: PadSpec): Value {
  const cut = spec.axes.map((axis, i) => ({ axis, start: Math.max(spec.begin[i], 0), end: spec.end[i] > 0 ? -spec.end[i] : TO_END }));
  const active = cut.filter((c) => c.start !== 0 || c.end !== TO_END);
  if (active.length === 0) return dy;
  return sliceAxes(ctx, dy, active.map((c) => c.start), active.map((c) => c.end), active.map((c) => c.axis));
}

/** Zeros where the forward Pad cropped X away (negative pads). */
function restoreCropped(ctx: GradContext, g: Value, spec: PadSpec): Value {
  const begin = spec.begin.map((p) => Math.max(-p, 0));
  const end = spec.end.map((p) => Math.max(-p, 0));
  if ([...begin, ...end].every((p) => p === 0)) return g;
  const rank = requireRank(ctx, ctx.x(0));
  // Spelled out over every axis, so the zero Pad needs no axes input (which only exists from opset 18).
  const full = Array.from({ length: 2 * rank }, () => 0);
  spec.axes.forEach((axis, i) => {
    full[axis] = begin[i];
    full[rank + axis] = end[i];
  });
  return padZeros(ctx, g, full);
}

/** sum(dY) - sum(kept), shaped like c (a scalar, or a one-element tensor in some exporters). */
function constantGrad(ctx: GradContext, dy: Value, kept: Value): Value {
  const { b } = ctx;
  const total = b.sub(b.reduceSum(dy, undefined, false), b.reduceSum(kept, undefined, false));
  return b.op('Reshape', [total, ctx.shapeOf(ctx.x(2))]);
}
