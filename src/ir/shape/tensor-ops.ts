/*
 * Shape rules of the ops that move, copy or select tensor elements without arithmetic: Reshape, Flatten,
 * Transpose, Squeeze, Unsqueeze, Expand, Tile, DepthToSpace/SpaceToDepth, Concat, Split, Slice, Gather,
 * GatherElements, GatherND, Pad, OneHot (ScatterElements and ScatterND keep their data's shape: elementwise.ts
 * sameAsInput).
 *
 * Symbolic dims are kept wherever the math allows, as exact expressions (Reshape [-1, 32] of [batch, sequence, 32]
 * is [batch*sequence, 32]; Slice [:-1] of `sequence` is `sequence - 1`); a dim that cannot be named becomes null
 * (unknown). Integer tensors whose contents are known (Shape and what is computed from it: values.ts) keep them
 * through Reshape, Squeeze, Unsqueeze, Concat, Slice, Gather and Expand, so PyTorch's Shape -> Gather -> Concat ->
 * Reshape keeps `N`. A Reshape or Expand target whose contents are unknown still gives the output's rank.
 */
import type { Node } from '../node.js';
import type { Dim, Value } from '../value.js';
import { broadcastShapes, dimProduct, nonNegativeAxis, range, scaled, sliceExtent, staticLength } from './dims.js';
import { addDims, divDims, modDims } from './symbolic-dims.js';
import type { ShapeContext, ShapeRule } from './types.js';

/** The -1 of a Reshape: the input's element count divided by the other output dims, exactly (`batch*sequence`). */
function inferredDim(input: readonly Dim[], known: readonly Dim[]): Dim {
  if (input.includes(null) || known.includes(null)) return null;
  const rest = dimProduct(known);
  if (rest === 0) return null;
  return divDims(dimProduct(input), rest);
}

/** Axes from the attribute (older opsets) or the constant input `index` (newer); undefined when absent or unknown. */
function axesOf(node: Node, c: ShapeContext, index: number): number[] | undefined {
  if (node.attrs.has('axes')) return node.attrs.ints('axes');
  return c.constInts(node.inputs[index]);
}

/** Contents that survive a change of shape: a scalar or 1-D result holding the same elements. */
function reshapedValues(c: ShapeContext, x: Value | null | undefined, outRank: number | undefined): Dim[] | undefined {
  return outRank !== undefined && outRank <= 1 ? c.dims(x) : undefined;
}

export const reshape: ShapeRule = (node, c) => {
  const x = c.shape(node.inputs[0]);
  const target = c.dims(node.inputs[1]);
  const elemType = c.elemType(node.inputs[0]);
  if (!target) {
    // The target's length is still the output's rank.
    const rank = staticLength(c.shape(node.inputs[1]));
    return [{ elemType, shape: rank === undefined ? undefined : new Array<Dim>(rank).fill(null) }];
  }
  const allowZero = node.attrs.int('allowzero', 0) !== 0;
  const out: Dim[] = target.map((d, i) => (d === 0 && !allowZero ? (x?.[i] ?? null) : d));
  const hole = out.indexOf(-1);
  if (hole >= 0) out[hole] = x ? inferredDim(x, out.filter((_, i) => i !== hole)) : null;
  return [{ elemType, shape: out, dims: reshapedValues(c, node.inputs[0], out.length) }];
};

export const flatten: ShapeRule = (node, c) => {
  const x = c.shape(node.inputs[0]);
  const elemType = c.elemType(node.inputs[0]);
  if (!x) return [{ elemType }];
  const axis = nonNegativeAxis(node.attrs.int('axis', 1), x.length);
  return [{ elemType, shape: [dimProduct(x.slice(0, axis)), dimProduct(x.slice(axis))] }];
};

export const transpose: ShapeRule = (node, c) => {
  const x = c.shape(node.inputs[0]);
  const elemType = c.elemType(node.inputs[0]);
  if (!x) return [{ elemType }];
  const perm = node.attrs.has('perm') ? node.attrs.ints('perm') : range(x.length).reverse();
  return [{ elemType, shape: perm.map((p) => x[p]) }];
};

export const squeeze: ShapeRule = (node, c) => {
  const x = c.shape(node.inputs[0]);
  const elemType = c.elemType(node.inputs[0]);
  if (!x) return [{ elemType }];
  const axes = axesOf(node, c, 1);
  // A dim [d] squeezed to a scalar keeps its value (shape arithmetic).
  const dims = x.length <= 1 ? c.dims(node.inputs[0]) : undefined;
  if (!axes) {
    if (node.inputs[1] || x.some((d) => typeof d !== 'number')) return [{ elemType }];
    return [{ elemType, shape: x.filter((d) => d !== 1), dims }];
  }
  const drop = new Set(axes.map((a) => nonNegativeAxis(a, x.length)));
  return [{ elemType, shape: x.filter((_, i) => !drop.has(i)), dims }];
};

export const unsqueeze: ShapeRule = (node, c) => {
  const x = c.shape(node.inputs[0]);
  const elemType = c.elemType(node.inputs[0]);
  const axes = axesOf(node, c, 1);
  if (!x || !axes) return [{ elemType }];
  const rank = x.length + axes.length;
  const inserted = new Set(axes.map((a) => nonNegativeAxis(a, rank)));
  const out: Dim[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) out.push(inserted.has(i) ? 1 : x[k++]);
  // A scalar dim unsqueezed to [d] (PyTorch's shape arithmetic) keeps its value.
  const value = rank <= 1 ? c.dims(node.inputs[0]) : undefined;
  return [{ elemType, shape: out, dims: value }];
};

/** Expand: x broadcast with the target shape; with the target's contents unknown, its length still gives the rank. */
export const expand: ShapeRule = (node, c) => {
  const x = c.shape(node.inputs[0]);
  const elemType = c.elemType(node.inputs[0]);
  const target = c.dims(node.inputs[1]);
  if (target) {
    const shape = broadcastShapes([x, target]);
    const value = c.dims(node.inputs[0]);
    // A scalar or [1] value expanded to [k] repeats it.
    const length = staticLength(shape);
    const dims = value && value.length === 1 && length !== undefined ? new Array<Dim>(length).fill(value[0]) : undefined;
    return [{ elemType, shape, dims: dims ?? (shape?.length === 1 && value && value.length === shape[0] ? value : undefined) }];
  }
  const rank = staticLength(c.shape(node.inputs[1]));
  if (!x || rank === undefined) return [{ elemType }];
  // Broadcasting never changes a dim other than 1.
  const r = Math.max(rank, x.length);
  return [{ elemType, shape: range(r).map((i) => x[i - (r - x.length)] ?? null).map((d) => (d === 1 ? null : d)) }];
};

export const tile: ShapeRule = (node, c) => {
  const x = c.shape(node.inputs[0]);
  const repeats = c.constInts(node.inputs[1]);
  const elemType = c.elemType(node.inputs[0]);
  if (!x) return [{ elemType }];
  return [{ elemType, shape: x.map((d, i) => (repeats ? scaled(d, repeats[i]) : null)) }];
};

export const depthSpace: ShapeRule = (node, c) => {
  const x = c.shape(node.inputs[0]);
  const elemType = c.elemType(node.inputs[0]);
  if (!x || x.length !== 4) return [{ elemType }];
  const b = node.attrs.int('blocksize');
  const [n, ch, h, w] = x;
  const toSpace = node.opType === 'DepthToSpace';
  return [{ elemType, shape: [n, scaled(ch, toSpace ? 1 / (b * b) : b * b), scaled(h, toSpace ? b : 1 / b), scaled(w, toSpace ? b : 1 / b)] }];
};

export const concat: ShapeRule = (node, c) => {
  const shapes = node.inputs.map((v) => c.shape(v));
  const elemType = c.elemType(node.inputs[0]);
  const values = node.inputs.map((v) => c.dims(v));
  const dims = values.every((v) => v !== undefined) ? (values as Dim[][]).flat() : undefined;
  const known = shapes.find((s) => s);
  if (!known) return [{ elemType, dims }];
  const axis = nonNegativeAxis(node.attrs.int('axis'), known.length);
  const out = known.map((_, i) => {
    if (i === axis) return shapes.reduce<Dim>((total, s) => (s ? addDims(total, s[i]) : null), 0);
    return shapes.map((s) => s?.[i] ?? null).find((d) => typeof d === 'number') ?? shapes.map((s) => s?.[i] ?? null).find((d) => d !== null) ?? null;
  });
  return [{ elemType, shape: out, dims }];
};

export const split: ShapeRule = (node, c) => {
  const x = c.shape(node.inputs[0]);
  const elemType = c.elemType(node.inputs[0]);
  const n = node.outputs.length;
  if (!x) return node.outputs.map(() => ({ elemType }));
  const axis = nonNegativeAxis(node.attrs.int('axis', 0), x.length);
  let sizes: Dim[] | undefined = node.attrs.has('split') ? node.attrs.ints('split') : c.constInts(node.inputs[1]);
  const dim = x[axis];
  if (!sizes) {
    if (typeof dim !== 'number') sizes = new Array<Dim>(n).fill(divDims(dim, n) !== null && modDims(dim, n) === 0 ? divDims(dim, n) : null);
    else {
      const chunk = Math.ceil(dim / n);
      sizes = range(n).map((i) => Math.max(0, Math.min(chunk, dim - i * chunk)));
    }
  }
  return sizes.map((d) => ({ elemType, shape: x.map((e, i) => (i === axis ? d : e)) }));
};

/** Slice bounds: attributes before opset 10, inputs after (contents known to the analysis, possibly symbolic). */
function sliceBounds(node: Node, c: ShapeContext): { starts?: Dim[]; ends?: Dim[]; axes?: number[]; steps?: number[]; known: boolean } {
  if (node.attrs.has('starts')) {
    return { starts: node.attrs.ints('starts'), ends: node.attrs.ints('ends'), axes: node.attrs.has('axes') ? node.attrs.ints('axes') : undefined, known: true };
  }
  const axes = node.inputs[3] ? c.constInts(node.inputs[3]) : undefined;
  const steps = node.inputs[4] ? c.constInts(node.inputs[4]) : undefined;
  const starts = c.dims(node.inputs[1]);
  const ends = c.dims(node.inputs[2]);
  const known = !!starts && !!ends && (!node.inputs[3] || !!axes) && (!node.inputs[4] || !!steps);
  return { starts, ends, axes, steps, known };
}

export const slice: ShapeRule = (node, c) => {
  const x = c.shape(node.inputs[0]);
  const elemType = c.elemType(node.inputs[0]);
  const { starts, ends, axes, steps, known } = sliceBounds(node, c);
  if (!x) return [{ elemType }];
  if (!known) return [{ elemType, shape: x.map(() => null) }];
  const out = [...x];
  const value = c.dims(node.inputs[0]);
  let valueOut: Dim[] | undefined;
  starts!.forEach((s, j) => {
    const axis = nonNegativeAxis(axes?.[j] ?? j, x.length);
    const step = steps?.[j] ?? 1;
    const { start, count } = sliceExtent(x[axis], s, ends![j], step);
    out[axis] = count;
    if (value && x.length === 1 && typeof start === 'number' && typeof count === 'number') {
      valueOut = range(count).map((k) => value[start + k * step]);
    }
  });
  return [{ elemType, shape: out, dims: valueOut }];
};

export const gather: ShapeRule = (node, c) => {
  const x = c.shape(node.inputs[0]);
  const idx = c.shape(node.inputs[1]);
  const elemType = c.elemType(node.inputs[0]);
  if (!x || !idx) return [{ elemType }];
  const axis = nonNegativeAxis(node.attrs.int('axis', 0), x.length);
  const value = c.dims(node.inputs[0]);
  const picks = c.constInts(node.inputs[1]);
  const dims = value && picks && x.length === 1 ? picks.map((p) => value[nonNegativeAxis(p, value.length)]) : undefined;
  return [{ elemType, shape: [...x.slice(0, axis), ...idx, ...x.slice(axis + 1)], dims }];
};

export const gatherElements: ShapeRule = (node, c) => [{ elemType: c.elemType(node.inputs[0]), shape: c.shape(node.inputs[1]) }];

/** GatherND with batch_dims b: indices[:-1] ++ data[b + last index length:]. */
export const gatherND: ShapeRule = (node, c) => {
  const data = c.shape(node.inputs[0]);
  const indices = c.shape(node.inputs[1]);
  const elemType = c.elemType(node.inputs[0]);
  const depth = indices?.[indices.length - 1];
  if (!data || !indices || typeof depth !== 'number') return [{ elemType }];
  return [{ elemType, shape: [...indices.slice(0, -1), ...data.slice(node.attrs.int('batch_dims', 0) + depth)] }];
};

/** Pad: each padded axis grows by its begin + end pads (negative pads crop); `axes` (opset 18) picks the axes. */
/** Pad: each padded axis grows by its begin and end pads, exactly, also where pads are computed from shapes. */
export const pad: ShapeRule = (node, c) => {
  const x = c.shape(node.inputs[0]);
  const elemType = c.elemType(node.inputs[0]);
  const pads: Dim[] | undefined = node.attrs.has('pads') ? node.attrs.ints('pads') : c.dims(node.inputs[1]);
  if (!x) return [{ elemType }];
  const r = x.length;
  if (!pads) return [{ elemType, shape: x.map((): Dim => null) }];
  const given = node.inputs[3] ? c.constInts(node.inputs[3]) : range(r);
  if (!given || pads.length !== 2 * given.length) return [{ elemType, shape: x.map((): Dim => null) }];
  const shape = [...x];
  given.forEach((a, i) => {
    const axis = nonNegativeAxis(a, r);
    shape[axis] = addDims(addDims(shape[axis], pads[i]), pads[i + given.length]);
  });
  return [{ elemType, shape }];
};

export const oneHot: ShapeRule = (node, c) => {
  const idx = c.shape(node.inputs[0]);
  const depth = c.constInts(node.inputs[1])?.[0] ?? null;
  const elemType = c.elemType(node.inputs[2]);
  if (!idx) return [{ elemType }];
  const axis = nonNegativeAxis(node.attrs.int('axis', -1), idx.length + 1);
  return [{ elemType, shape: [...idx.slice(0, axis), depth, ...idx.slice(axis)] }];
};
