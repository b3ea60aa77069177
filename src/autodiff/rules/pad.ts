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
 * to some axes. Modes 'reflect', 'edge' and 'wrap' copy X into the border instead of c: their dX adds
 * each border region of dY back onto the X elements it was copied from; c then reaches no output (dc = 0).
 *
 * The copying modes ('reflect', 'edge', 'wrap'; ONNX Operators.md, Pad):
 *
 * Padding is separable: Y = P_k(... P_1(X)) with one P per padded axis, so dX = P_1^T(... P_k^T(dY)). For one axis
 * with begin pad b, end pad e and input size n, P copies X[., 0:n, .] to Y[., b:b+n, .] and fills the border from X:
 *
 *   reflect  Y[b-1-i] = X[1+i]          (i < b)    Y[b+n+j] = X[n-2-j]     (j < e)    mirror, border not repeated
 *   edge     Y[o]     = X[0]            (o < b)    Y[b+n+j] = X[n-1]
 *   wrap     Y[o]     = X[n-b+o]        (o < b)    Y[b+n+j] = X[j]
 *
 * so P^T(G) = G[b:b+n] + (each border region of G added into the X positions it was copied from):
 *
 *   reflect  reversed G[0:b] into X[1:b+1];          reversed G[b+n:] into X[n-1-e:n-1]
 *   edge     sum(G[0:b]) into X[0];                  sum(G[b+n:]) into X[n-1]
 *   wrap     G[0:b] into X[n-b:n];                   G[b+n:] into X[0:e]
 *
 * "Into X[s:t]" is a zero Pad of the region to length n followed by an Add. The pads must stay within one copy of X
 * (reflect: b, e <= n-1; wrap: b, e <= n; edge: any size): larger ones would fold the border over several times,
 * which ONNX runtimes do not agree on, so they are refused, as are negative (cropping) pads in these modes.
 */
import { RegraftError } from '../../errors.js';
import type { Value } from '../../ir/value.js';
import { normalizeAxis } from '../axes.js';
import { TO_END, padZeros, requireRank, sliceAxes, zerosLike } from '../shapes.js';
import type { GradContext, GradientRule } from '../types.js';

type CopyMode = 'reflect' | 'edge' | 'wrap';

const COPY_MODES: readonly CopyMode[] = ['reflect', 'edge', 'wrap'];

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
    pads = ctx.ints(ctx.x(1));
    if (!pads) throw new RegraftError(`${ctx.node.describe()}: pads '${ctx.x(1).name}' are computed at run time and the gradient needs them as a constant; ${ctx.lostTrack(ctx.x(1), 'contents')}`);
  }
  let axes = Array.from({ length: rank }, (_, i) => i);
  if (ctx.opset >= 18 && ctx.hasInput(3)) {
    const given = ctx.ints(ctx.x(3));
    if (!given) throw new RegraftError(`${ctx.node.describe()}: axes '${ctx.x(3).name}' are computed at run time and the gradient needs them as a constant; ${ctx.lostTrack(ctx.x(3), 'contents')}`);
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

// The copying modes.

/** One padded axis: begin and end pads (non-negative) and the input's static size along it. */
interface AxisPad {
  axis: number;
  begin: number;
  end: number;
  size: number;
}

/** dX for a Pad in a copying mode, given the padded axes and their begin/end pads (as in the node). */
function copyModeGrad(ctx: GradContext, dy: Value, mode: CopyMode, axes: readonly number[], begin: readonly number[], end: readonly number[]): Value {
  const pads = axisPads(ctx, mode, axes, begin, end);
  // P_1^T(... P_k^T(dY)): undo the last applied axis first (any order gives the same sum; this one is the definition).
  let g = dy;
  for (const p of [...pads].reverse()) g = transposeAxis(ctx, g, mode, p);
  return g;
}

function axisPads(ctx: GradContext, mode: CopyMode, axes: readonly number[], begin: readonly number[], end: readonly number[]): AxisPad[] {
  const dims = ctx.shape(ctx.x(0));
  const where = `${ctx.node.describe()}: Pad mode '${mode}'`;
  const out: AxisPad[] = [];
  axes.forEach((axis, i) => {
    const b = begin[i];
    const e = end[i];
    if (b === 0 && e === 0) return;
    if (b < 0 || e < 0) {
      throw new RegraftError(`${where} with negative (cropping) pads [${b}, ${e}] on axis ${axis} has no gradient rule; crop with a Slice before or after the Pad instead`);
    }
    const size = dims?.[axis];
    if (typeof size !== 'number') {
      throw new RegraftError(`${where} pads axis ${axis}, whose size is not static; the gradient needs it: declare the input's shape`);
    }
    const limit = mode === 'reflect' ? size - 1 : mode === 'wrap' ? size : Infinity;
    if (b > limit || e > limit) {
      throw new RegraftError(`${where} pads axis ${axis} of size ${size} by [${b}, ${e}], more than one copy of the axis allows (at most ${limit}); pad in several smaller steps`);
    }
    out.push({ axis, begin: b, end: e, size });
  });
  return out;
}

/** P^T for one axis: the centre of `g` plus every border region added into the X positions it was copied from. */
function transposeAxis(ctx: GradContext, g: Value, mode: CopyMode, p: AxisPad): Value {
  const { begin: b, end: e, size: n } = p;
  let dx = slice(ctx, g, p.axis, b, b + n);
  if (b > 0) {
    const region = slice(ctx, g, p.axis, 0, b);
    if (mode === 'reflect') dx = ctx.b.add(dx, placeInto(ctx, reverse(ctx, region, p.axis, b), p, 1, n - 1 - b));
    else if (mode === 'edge') dx = ctx.b.add(dx, placeInto(ctx, ctx.b.reduceSum(region, [p.axis], true), p, 0, n - 1));
    else dx = ctx.b.add(dx, placeInto(ctx, region, p, n - b, 0));
  }
  if (e > 0) {
    const region = slice(ctx, g, p.axis, b + n, TO_END);
    if (mode === 'reflect') dx = ctx.b.add(dx, placeInto(ctx, reverse(ctx, region, p.axis, e), p, n - 1 - e, 1));
    else if (mode === 'edge') dx = ctx.b.add(dx, placeInto(ctx, ctx.b.reduceSum(region, [p.axis], true), p, n - 1, 0));
    else dx = ctx.b.add(dx, placeInto(ctx, region, p, 0, n - e));
  }
  return dx;
}

/** g[start:end] along `axis`. */
function slice(ctx: GradContext, g: Value, axis: number, start: number, end: number): Value {
  return sliceAxes(ctx, g, [start], [end], [axis]);
}

/** `g` (of length `length` along `axis`) in reverse order: a Gather with constant indices works in every opset. */
function reverse(ctx: GradContext, g: Value, axis: number, length: number): Value {
  if (length === 1) return g;
  const indices = Array.from({ length }, (_, i) => length - 1 - i);
  return ctx.b.op('Gather', [g, ctx.b.ints(indices, 'reversed')], { axis });
}

/** `region` zero-padded along the axis by (before, after), so that it lines up with X's positions. */
function placeInto(ctx: GradContext, region: Value, p: AxisPad, before: number, after: number): Value {
  if (before === 0 && after === 0) return region;
  const rank = requireRank(ctx, ctx.x(0));
  const full = Array.from({ length: 2 * rank }, () => 0);
  full[p.axis] = before;
  full[rank + p.axis] = after;
  return padZeros(ctx, region, full);
}
