import { OPSET_UPGRADE_HINT, RegraftError } from '../../errors.js';
import { DataType } from '../../ir/dtype.js';
import { sliceExtent } from '../../ir/shape/dims.js';
import { subDims } from '../../ir/shape/symbolic-dims.js';
import type { Dim, Value } from '../../ir/value.js';
import type { GradContext, GradientRule } from '../types.js';
import { normalizeAxis } from '../axes.js';
import { requireRank } from '../shapes.js';

/**
 * y = x[starts:ends:steps] on some axes. dx is zero except where the slice read x, which receives dy:
 *   step 1:      dx = Pad(dy, before = start, after = dim - start - count)   (one Pad for all such axes)
 *   other steps: dx = dy @ E along the axis, E[k, i] = 1 when slice element k came from x index i
 *                (a constant one-hot matrix: handles negative and strided steps exactly)
 * Bounds may be computed from shapes: the shape analysis folds them to constants when the shapes are static, and
 * keeps them exact when a dim is symbolic (`x[:, :-1]` of `sequence` pads 1 at the end: a constant all the same).
 * A pad that depends on a dim known only at run time is computed at run time from the bounds and the shapes
 * (start wrapped and clamped as Slice does it; after = dim - start - Shape(y)[axis]), so one step trains any
 * batch and sequence length. Axes and steps must be constants; a step other than 1 needs a static region.
 */
interface AxisSlice {
  /** Position in starts/ends. */
  j: number;
  axis: number;
  dim: Dim;
  start: Dim;
  count: Dim;
  step: number;
}

interface SliceParams {
  starts: Dim[];
  ends: Dim[];
  axes?: number[];
  steps?: number[];
}

function sliceParams(ctx: GradContext): SliceParams {
  if (ctx.opset < 10) {
    return { starts: ctx.attrs.ints('starts'), ends: ctx.attrs.ints('ends'), axes: ctx.attrs.has('axes') ? ctx.attrs.ints('axes') : undefined };
  }
  const constant = (i: number, what: string): number[] | undefined => {
    if (!ctx.hasInput(i)) return undefined;
    const values = ctx.ints(ctx.x(i));
    if (!values) throw new RegraftError(`${ctx.node.describe()}: ${what} '${ctx.x(i).name}' is computed at run time and the gradient needs constant slice ${what}; ${ctx.lostTrack(ctx.x(i), 'contents')}`);
    return values;
  };
  // Bounds of unknown contents are read at run time: only their count matters here, the rank of starts.
  const bounds = (i: number): Dim[] => ctx.dims(ctx.x(i)) ?? new Array<Dim>(boundCount(ctx, i)).fill(null);
  return { starts: bounds(1), ends: bounds(2), axes: constant(3, 'axes'), steps: constant(4, 'steps') };
}

function boundCount(ctx: GradContext, i: number): number {
  const s = ctx.shape(ctx.x(i));
  const n = s?.length === 1 ? s[0] : s?.length === 0 ? 1 : undefined;
  if (typeof n !== 'number') {
    throw new RegraftError(`${ctx.node.describe()}: the number of slice bounds in '${ctx.x(i).name}' is unknown; give the Slice constant axes`);
  }
  return n;
}

function axisSlices(ctx: GradContext, rank: number): AxisSlice[] {
  const { starts, ends, axes, steps } = sliceParams(ctx);
  const shape = ctx.shape(ctx.x(0))!;
  return starts.map((s, j) => {
    const axis = normalizeAxis(ctx, axes?.[j] ?? j, rank);
    const step = steps?.[j] ?? 1;
    const { start, count } = sliceExtent(shape[axis], s, ends[j], step);
    return { j, axis, dim: shape[axis], start, count, step };
  });
}

/** Scatters dy back along one axis through a constant one-hot matrix [count, dim]. */
function scatterAlongAxis(ctx: GradContext, g: Value, s: AxisSlice, rank: number): Value {
  const { b } = ctx;
  const [dim, start, count] = [s.dim, s.start, s.count] as number[];
  const onehot = new Float32Array(count * dim);
  for (let k = 0; k < count; k++) onehot[k * dim + start + k * s.step] = 1;
  const matrix = b.floatInit('slice_onehot', onehot, [count, dim]);
  if (s.axis === rank - 1) return b.op('MatMul', [g, matrix]);
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[s.axis], perm[rank - 1]] = [perm[rank - 1], perm[s.axis]];
  const moved = b.op('MatMul', [b.op('Transpose', [g], { perm }), matrix]);
  return b.op('Transpose', [moved], { perm });
}

/** An int64 [1] value: a constant, or a run-time scalar reshaped. */
type Pad = number | Value;

/**
 * Slice's start along the axis at run time: negative counts from the end, then clamped to [0, dim]. Reached from
 * opset 11 only (run-time pads need Pad's pads input), where the starts are input 1.
 */
function runtimeStart(ctx: GradContext, s: AxisSlice, dim: Value): Value {
  const { b } = ctx;
  const starts = ctx.x(1);
  const wide = starts.elemType === DataType.INT64 ? starts : b.op('Cast', [starts], { to: DataType.INT64 });
  const start = b.op('Gather', [wide, b.int64Init('slice_bound', [s.j], [])], { axis: 0 });
  const zero = b.int64Init('zero_i64', [0], []);
  const wrapped = b.op('Where', [b.op('Less', [start, zero]), b.add(start, dim), start]);
  return b.op('Min', [b.op('Max', [wrapped, zero]), dim]);
}

/** What the analysis knows of the pad after one step-1 axis: dim - start - count (null when any is unknown). */
function afterPad(s: AxisSlice): Dim {
  return s.dim === null || s.start === null || s.count === null ? null : subDims(subDims(s.dim, s.start), s.count);
}

/** The pads before and after one step-1 axis when the analysis knows both. */
function staticAxisPads(s: AxisSlice): [number, number] | undefined {
  const after = afterPad(s);
  return typeof s.start === 'number' && typeof after === 'number' ? [s.start, after] : undefined;
}

/** The pads before and after one step-1 axis, constants where the analysis knows them. */
function axisPads(ctx: GradContext, s: AxisSlice): [Pad, Pad] {
  const known = staticAxisPads(s);
  if (known) return known;
  const after = afterPad(s);
  const { b } = ctx;
  const at = (v: Value) => b.op('Gather', [ctx.shapeOf(v), b.int64Init('slice_axis', [s.axis], [])], { axis: 0 });
  const dim = at(ctx.x(0));
  const before = typeof s.start === 'number' ? b.int64Init('slice_start', [s.start], []) : runtimeStart(ctx, s, dim);
  const rest = b.op('Sub', [b.op('Sub', [dim, before]), at(ctx.y(0))]);
  return [typeof s.start === 'number' ? s.start : before, typeof after === 'number' ? after : rest];
}

/** The pads input of Pad: one constant when every entry is, else a Concat of constants and run-time scalars. */
function padsValue(ctx: GradContext, pads: Pad[]): Value {
  const { b } = ctx;
  if (pads.every((p) => typeof p === 'number')) return b.ints(pads as number[], 'pads');
  return b.op('Concat', pads.map((p) => (typeof p === 'number' ? b.ints([p], 'pad') : ctx.b.unsqueeze(p, [0]))), { axis: 0 });
}

export const sliceGrad: GradientRule = {
  opTypes: ['Slice'],
  grad(ctx) {
    const rest = ctx.node.inputs.slice(1).map(() => null);
    if (!ctx.needs(0)) return [null, ...rest];
    const { b } = ctx;
    const rank = requireRank(ctx, ctx.x(0));
    let g = ctx.dy(0)!;
    const pads: Pad[] = new Array<Pad>(2 * rank).fill(0);
    const slices = axisSlices(ctx, rank);
    if (ctx.opset < 11 && slices.some((s) => s.step === 1 && !staticAxisPads(s))) {
      throw new RegraftError(`${ctx.node.describe()}: the sliced region of '${ctx.x(0).name}' is known only at run time, which needs opset 11 (Pad's pads input); ${OPSET_UPGRADE_HINT}`);
    }
    for (const s of slices) {
      if (s.step === 1) {
        [pads[s.axis], pads[rank + s.axis]] = axisPads(ctx, s);
      } else if ([s.dim, s.start, s.count].every((d) => typeof d === 'number')) {
        g = scatterAlongAxis(ctx, g, s, rank);
      } else {
        throw new RegraftError(
          `${ctx.node.describe()}: step ${s.step} along axis ${s.axis} of '${ctx.x(0).name}' reads a region known only at run time; the gradient needs it static: fix the dynamic dims with --dim`,
        );
      }
    }
    if (pads.some((p) => p !== 0)) {
      // Below opset 11 the pads are an attribute: static, as checked above.
      g = ctx.opset >= 11 ? b.op('Pad', [g, padsValue(ctx, pads)]) : b.op('Pad', [g], { pads: pads as number[] });
    }
    return [g, ...rest];
  },
};
