import { RegraftError } from '../../errors.js';
import { constantInts } from '../../ir/constant.js';
import { normalizeAxis } from '../axes.js';
import { requireRank } from '../shapes.js';
function sliceParams(ctx) {
    if (ctx.opset < 10) {
        return { starts: ctx.attrs.ints('starts'), ends: ctx.attrs.ints('ends'), axes: ctx.attrs.has('axes') ? ctx.attrs.ints('axes') : undefined };
    }
    const read = (i, what) => {
        if (!ctx.hasInput(i))
            return undefined;
        const values = constantInts(ctx.x(i));
        if (!values)
            throw new RegraftError(`${ctx.node.describe()}: ${what} '${ctx.x(i).name}' is computed at run time; the gradient needs constant slice bounds`);
        return values;
    };
    return { starts: read(1, 'starts'), ends: read(2, 'ends'), axes: read(3, 'axes'), steps: read(4, 'steps') };
}
function axisSlices(ctx, rank) {
    const { starts, ends, axes, steps } = sliceParams(ctx);
    const shape = ctx.shape(ctx.x(0));
    return starts.map((s, j) => {
        const axis = normalizeAxis(ctx, axes?.[j] ?? j, rank);
        const dim = shape[axis];
        if (typeof dim !== 'number') {
            throw new RegraftError(`${ctx.node.describe()}: dim ${axis} of '${ctx.x(0).name}' is not static, so the sliced region is unknown; declare static shapes`);
        }
        const step = steps?.[j] ?? 1;
        const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);
        const wrap = (v) => (v < 0 ? v + dim : v);
        const start = step > 0 ? clamp(wrap(s), 0, dim) : clamp(wrap(s), 0, dim - 1);
        const end = step > 0 ? clamp(wrap(ends[j]), 0, dim) : clamp(wrap(ends[j]), -1, dim - 1);
        const indices = [];
        for (let i = start; step > 0 ? i < end : i > end; i += step)
            indices.push(i);
        return { axis, dim, indices, step };
    });
}
/** Scatters dy back along one axis through a constant one-hot matrix [count, dim]. */
function scatterAlongAxis(ctx, g, s, rank) {
    const { b } = ctx;
    const onehot = new Float32Array(s.indices.length * s.dim);
    s.indices.forEach((i, k) => (onehot[k * s.dim + i] = 1));
    const matrix = b.floatInit('slice_onehot', onehot, [s.indices.length, s.dim]);
    if (s.axis === rank - 1)
        return b.op('MatMul', [g, matrix]);
    const perm = Array.from({ length: rank }, (_, i) => i);
    [perm[s.axis], perm[rank - 1]] = [perm[rank - 1], perm[s.axis]];
    const moved = b.op('MatMul', [b.op('Transpose', [g], { perm }), matrix]);
    return b.op('Transpose', [moved], { perm });
}
export const sliceGrad = {
    opTypes: ['Slice'],
    grad(ctx) {
        const rest = ctx.node.inputs.slice(1).map(() => null);
        if (!ctx.needs(0))
            return [null, ...rest];
        const { b } = ctx;
        const rank = requireRank(ctx, ctx.x(0));
        let g = ctx.dy(0);
        const pads = new Array(2 * rank).fill(0);
        for (const s of axisSlices(ctx, rank)) {
            if (s.step === 1) {
                pads[s.axis] = s.indices.length > 0 ? s.indices[0] : 0;
                pads[rank + s.axis] = s.dim - pads[s.axis] - s.indices.length;
            }
            else {
                g = scatterAlongAxis(ctx, g, s, rank);
            }
        }
        if (pads.some((p) => p !== 0)) {
            g = ctx.opset >= 11 ? b.op('Pad', [g, b.ints(pads, 'pads')]) : b.op('Pad', [g], { pads });
        }
        return [g, ...rest];
    },
};
