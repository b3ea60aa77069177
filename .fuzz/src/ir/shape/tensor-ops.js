/*
 * Shape rules of the ops that move, copy, select or describe tensor elements without arithmetic: Reshape, Flatten,
 * Transpose, Squeeze, Unsqueeze, Expand, Tile, DepthToSpace/SpaceToDepth, Concat, Split, Slice, Gather,
 * GatherElements, GatherND, Pad, OneHot, and the shape ops Shape, Size, ConstantOfShape, Range (ScatterElements and
 * ScatterND keep their data's shape: elementwise.ts sameAsInput).
 *
 * Symbolic dims are kept wherever the math allows (a batch dim `N` passes through Reshape, Flatten, Gather, ...); a
 * dim that cannot be named becomes null (unknown). Integer tensors that hold dimensions (Shape and what is computed
 * from it) carry those dims in `dims`, so PyTorch's Shape -> Gather -> Concat -> Reshape keeps `N`.
 */
import { DataType } from '../dtype.js';
import { broadcastShapes, dimProduct, nonNegativeAxis, range, scaled } from './dims.js';
/** The -1 of a Reshape: input size divided by the known output dims, cancelling shared symbols. */
function inferredDim(input, known) {
    if (input.includes(null) || known.includes(null))
        return null;
    const left = input.filter((d) => typeof d === 'string');
    for (const d of known) {
        if (typeof d !== 'string')
            continue;
        const i = left.indexOf(d);
        if (i < 0)
            return null;
        left.splice(i, 1);
    }
    const num = (ds) => ds.reduce((p, d) => (typeof d === 'number' ? p * d : p), 1);
    const den = num(known);
    if (den === 0 || num(input) % den !== 0)
        return null;
    const ratio = num(input) / den;
    if (left.length === 0)
        return ratio;
    return left.length === 1 && ratio === 1 ? left[0] : null;
}
/** Axes from the attribute (older opsets) or the constant input `index` (newer); undefined when absent or unknown. */
function axesOf(node, c, index) {
    if (node.attrs.has('axes'))
        return node.attrs.ints('axes');
    return c.constInts(node.inputs[index]);
}
export const reshape = (node, c) => {
    const x = c.shape(node.inputs[0]);
    const target = c.dims(node.inputs[1]);
    const elemType = c.elemType(node.inputs[0]);
    if (!target)
        return [{ elemType }];
    const allowZero = node.attrs.int('allowzero', 0) !== 0;
    const out = target.map((d, i) => (d === 0 && !allowZero ? (x?.[i] ?? null) : d));
    const hole = out.indexOf(-1);
    if (hole >= 0)
        out[hole] = x ? inferredDim(x, out.filter((_, i) => i !== hole)) : null;
    return [{ elemType, shape: out }];
};
export const flatten = (node, c) => {
    const x = c.shape(node.inputs[0]);
    const elemType = c.elemType(node.inputs[0]);
    if (!x)
        return [{ elemType }];
    const axis = nonNegativeAxis(node.attrs.int('axis', 1), x.length);
    return [{ elemType, shape: [dimProduct(x.slice(0, axis)), dimProduct(x.slice(axis))] }];
};
export const transpose = (node, c) => {
    const x = c.shape(node.inputs[0]);
    const elemType = c.elemType(node.inputs[0]);
    if (!x)
        return [{ elemType }];
    const perm = node.attrs.has('perm') ? node.attrs.ints('perm') : range(x.length).reverse();
    return [{ elemType, shape: perm.map((p) => x[p]) }];
};
export const squeeze = (node, c) => {
    const x = c.shape(node.inputs[0]);
    const elemType = c.elemType(node.inputs[0]);
    if (!x)
        return [{ elemType }];
    const axes = axesOf(node, c, 1);
    // A dim [d] squeezed to a scalar keeps its value (shape arithmetic).
    const dims = x.length === 1 ? c.dims(node.inputs[0]) : undefined;
    if (!axes) {
        if (node.inputs[1] || x.some((d) => typeof d !== 'number'))
            return [{ elemType }];
        return [{ elemType, shape: x.filter((d) => d !== 1), dims }];
    }
    const drop = new Set(axes.map((a) => nonNegativeAxis(a, x.length)));
    return [{ elemType, shape: x.filter((_, i) => !drop.has(i)), dims }];
};
export const unsqueeze = (node, c) => {
    const x = c.shape(node.inputs[0]);
    const elemType = c.elemType(node.inputs[0]);
    const axes = axesOf(node, c, 1);
    if (!x || !axes)
        return [{ elemType }];
    const rank = x.length + axes.length;
    const inserted = new Set(axes.map((a) => nonNegativeAxis(a, rank)));
    const out = [];
    let k = 0;
    for (let i = 0; i < rank; i++)
        out.push(inserted.has(i) ? 1 : x[k++]);
    // A scalar dim unsqueezed to [d] (PyTorch's shape arithmetic) keeps its value.
    const value = x.length === 0 ? c.dims(node.inputs[0]) : undefined;
    return [{ elemType, shape: out, dims: value }];
};
export const expand = (node, c) => {
    const target = c.dims(node.inputs[1]);
    return [{ elemType: c.elemType(node.inputs[0]), shape: target ? broadcastShapes([c.shape(node.inputs[0]), target]) : undefined }];
};
export const tile = (node, c) => {
    const x = c.shape(node.inputs[0]);
    const repeats = c.constInts(node.inputs[1]);
    const elemType = c.elemType(node.inputs[0]);
    if (!x)
        return [{ elemType }];
    return [{ elemType, shape: x.map((d, i) => (repeats ? scaled(d, repeats[i]) : null)) }];
};
export const depthSpace = (node, c) => {
    const x = c.shape(node.inputs[0]);
    const elemType = c.elemType(node.inputs[0]);
    if (!x || x.length !== 4)
        return [{ elemType }];
    const b = node.attrs.int('blocksize');
    const [n, ch, h, w] = x;
    const toSpace = node.opType === 'DepthToSpace';
    return [{ elemType, shape: [n, scaled(ch, toSpace ? 1 / (b * b) : b * b), scaled(h, toSpace ? b : 1 / b), scaled(w, toSpace ? b : 1 / b)] }];
};
export const concat = (node, c) => {
    const shapes = node.inputs.map((v) => c.shape(v));
    const elemType = c.elemType(node.inputs[0]);
    const values = node.inputs.map((v) => c.dims(v));
    const dims = values.every((v) => v !== undefined) ? values.flat() : undefined;
    if (shapes.some((s) => !s))
        return [{ elemType, dims }];
    const first = shapes[0];
    const axis = nonNegativeAxis(node.attrs.int('axis'), first.length);
    const out = first.map((_, i) => {
        if (i === axis) {
            const sizes = shapes.map((s) => s[i]);
            return sizes.every((d) => typeof d === 'number') ? sizes.reduce((p, q) => p + q, 0) : null;
        }
        return shapes.map((s) => s[i]).find((d) => typeof d === 'number') ?? first[i];
    });
    return [{ elemType, shape: out, dims }];
};
export const split = (node, c) => {
    const x = c.shape(node.inputs[0]);
    const elemType = c.elemType(node.inputs[0]);
    const n = node.outputs.length;
    if (!x)
        return node.outputs.map(() => ({ elemType }));
    const axis = nonNegativeAxis(node.attrs.int('axis', 0), x.length);
    let sizes = node.attrs.has('split') ? node.attrs.ints('split') : c.constInts(node.inputs[1]);
    const dim = x[axis];
    if (!sizes) {
        if (typeof dim !== 'number')
            sizes = new Array(n).fill(null);
        else {
            const chunk = Math.ceil(dim / n);
            sizes = range(n).map((i) => Math.max(0, Math.min(chunk, dim - i * chunk)));
        }
    }
    return sizes.map((d) => ({ elemType, shape: x.map((e, i) => (i === axis ? d : e)) }));
};
export const slice = (node, c) => {
    const x = c.shape(node.inputs[0]);
    const elemType = c.elemType(node.inputs[0]);
    const old = node.attrs.has('starts');
    const starts = old ? node.attrs.ints('starts') : c.constInts(node.inputs[1]);
    const ends = old ? node.attrs.ints('ends') : c.constInts(node.inputs[2]);
    const axes = old ? (node.attrs.has('axes') ? node.attrs.ints('axes') : undefined) : node.inputs[3] ? c.constInts(node.inputs[3]) : undefined;
    const steps = old ? undefined : node.inputs[4] ? c.constInts(node.inputs[4]) : undefined;
    if (!x)
        return [{ elemType }];
    if (!starts || !ends || (node.inputs[3] && !axes) || (node.inputs[4] && !steps))
        return [{ elemType, shape: x.map(() => null) }];
    const out = [...x];
    const value = c.dims(node.inputs[0]);
    let valueOut;
    starts.forEach((s, j) => {
        const axis = nonNegativeAxis(axes?.[j] ?? j, x.length);
        const step = steps?.[j] ?? 1;
        const dim = x[axis];
        const e = ends[j];
        if (typeof dim !== 'number') {
            // Slicing all of a symbolic dim keeps it; anything else is unknown.
            out[axis] = step === 1 && s === 0 && e >= 2 ** 31 - 1 ? dim : null;
            return;
        }
        const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);
        const wrap = (v) => (v < 0 ? v + dim : v);
        const start = step > 0 ? clamp(wrap(s), 0, dim) : clamp(wrap(s), 0, dim - 1);
        const end = step > 0 ? clamp(wrap(e), 0, dim) : clamp(wrap(e), -1, dim - 1);
        out[axis] = Math.max(0, Math.ceil((end - start) / step));
        if (value && x.length === 1) {
            valueOut = [];
            for (let i = start; step > 0 ? i < end : i > end; i += step)
                valueOut.push(value[i]);
        }
    });
    return [{ elemType, shape: out, dims: valueOut }];
};
export const gather = (node, c) => {
    const x = c.shape(node.inputs[0]);
    const idx = c.shape(node.inputs[1]);
    const elemType = c.elemType(node.inputs[0]);
    if (!x || !idx)
        return [{ elemType }];
    const axis = nonNegativeAxis(node.attrs.int('axis', 0), x.length);
    const value = c.dims(node.inputs[0]);
    const picks = c.constInts(node.inputs[1]);
    const dims = value && picks && x.length === 1 ? picks.map((p) => value[nonNegativeAxis(p, value.length)]) : undefined;
    return [{ elemType, shape: [...x.slice(0, axis), ...idx, ...x.slice(axis + 1)], dims }];
};
export const gatherElements = (node, c) => [{ elemType: c.elemType(node.inputs[0]), shape: c.shape(node.inputs[1]) }];
/** GatherND with batch_dims b: indices[:-1] ++ data[b + last index length:]. */
export const gatherND = (node, c) => {
    const data = c.shape(node.inputs[0]);
    const indices = c.shape(node.inputs[1]);
    const elemType = c.elemType(node.inputs[0]);
    const depth = indices?.[indices.length - 1];
    if (!data || !indices || typeof depth !== 'number')
        return [{ elemType }];
    return [{ elemType, shape: [...indices.slice(0, -1), ...data.slice(node.attrs.int('batch_dims', 0) + depth)] }];
};
/** Pad: each padded axis grows by its begin + end pads (negative pads crop); `axes` (opset 18) picks the axes. */
export const pad = (node, c) => {
    const x = c.shape(node.inputs[0]);
    const elemType = c.elemType(node.inputs[0]);
    const pads = node.attrs.has('pads') ? node.attrs.ints('pads') : c.constInts(node.inputs[1]);
    if (!x || !pads)
        return [{ elemType }];
    const r = x.length;
    const given = node.inputs[3] ? c.constInts(node.inputs[3]) : range(r);
    if (!given || pads.length !== 2 * given.length)
        return [{ elemType, shape: x.map(() => null) }];
    const extra = x.map(() => 0);
    given.forEach((a, i) => {
        const axis = nonNegativeAxis(a, r);
        extra[axis] += pads[i] + pads[i + given.length];
    });
    return [{ elemType, shape: x.map((d, i) => (typeof d === 'number' ? d + extra[i] : extra[i] === 0 ? d : null)) }];
};
export const oneHot = (node, c) => {
    const idx = c.shape(node.inputs[0]);
    const depth = c.constInts(node.inputs[1])?.[0] ?? null;
    const elemType = c.elemType(node.inputs[2]);
    if (!idx)
        return [{ elemType }];
    const axis = nonNegativeAxis(node.attrs.int('axis', -1), idx.length + 1);
    return [{ elemType, shape: [...idx.slice(0, axis), depth, ...idx.slice(axis)] }];
};
export const shapeOp = (node, c) => {
    const x = c.shape(node.inputs[0]);
    if (!x)
        return [{ elemType: DataType.INT64, shape: [null] }];
    const start = nonNegativeAxis(node.attrs.int('start', 0), x.length);
    const end = node.attrs.has('end') ? nonNegativeAxis(node.attrs.int('end'), x.length) : x.length;
    const dims = x.slice(Math.max(0, start), Math.min(x.length, end));
    return [{ elemType: DataType.INT64, shape: [dims.length], dims }];
};
/** Size: an int64 scalar. */
export const size = () => [{ elemType: DataType.INT64, shape: [] }];
export const constantOfShape = (node, c) => {
    const t = node.attrs.tensor('value');
    return [{ elemType: t ? t.dataType : DataType.FLOAT, shape: c.dims(node.inputs[0]) }];
};
export const rangeOp = (node, c) => {
    const elemType = c.elemType(node.inputs[0]);
    const [start, limit, delta] = [0, 1, 2].map((i) => c.constInts(node.inputs[i])?.[0]);
    if (start === undefined || limit === undefined || delta === undefined || delta === 0)
        return [{ elemType, shape: [null] }];
    return [{ elemType, shape: [Math.max(0, Math.ceil((limit - start) / delta))] }];
};
