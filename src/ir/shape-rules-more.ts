/*
 * Static shape rules for the ops whose gradient rules arrived with the "more models" set (src/autodiff/rules:
 * tile.ts, resize.ts, depth-space.ts, gather-elements.ts, einsum.ts, instance-norm.ts, lrn.ts, cumsum.ts), so the
 * values after them keep a known rank and sizes: the backward pass needs ranks (reductions, Unsqueeze) and static
 * sizes where it can fold them into constants. A dim that cannot be computed stays null; a symbolic dim that is
 * multiplied by 1 keeps its name.
 */
import { constantFloats } from './constant.js';
import type { Node } from './node.js';
import { broadcastShapes, registerShapeRule, type ShapeContext, type ShapeRule } from './shape-inference.js';
import type { Dim } from './value.js';

const sameAsX: ShapeRule = (node, c) => [{ elemType: c.elemType(node.inputs[0]), shape: c.shape(node.inputs[0]) }];

/** d * f for a static factor f: a number when d is, d itself when f is 1, else unknown. */
function scaled(d: Dim, f: number): Dim {
  if (typeof d === 'number') return Math.floor(d * f);
  return f === 1 ? d : null;
}

const tile: ShapeRule = (node, c) => {
  const x = c.shape(node.inputs[0]);
  const repeats = c.constInts(node.inputs[1]);
  const elemType = c.elemType(node.inputs[0]);
  if (!x) return [{ elemType }];
  return [{ elemType, shape: x.map((d, i) => (repeats ? scaled(d, repeats[i]) : null)) }];
};

const depthSpace: ShapeRule = (node, c) => {
  const x = c.shape(node.inputs[0]);
  const elemType = c.elemType(node.inputs[0]);
  if (!x || x.length !== 4) return [{ elemType }];
  const b = node.attrs.int('blocksize');
  const [n, ch, h, w] = x;
  const toSpace = node.opType === 'DepthToSpace';
  return [{ elemType, shape: [n, scaled(ch, toSpace ? 1 / (b * b) : b * b), scaled(h, toSpace ? b : 1 / b), scaled(w, toSpace ? b : 1 / b)] }];
};

const gatherElements: ShapeRule = (node, c) => [{ elemType: c.elemType(node.inputs[0]), shape: c.shape(node.inputs[1]) }];

/** Einsum without ellipsis: each output letter takes its size from an operand that has it. */
const einsum: ShapeRule = (node, c) => {
  const elemType = c.elemType(node.inputs[0]);
  const equation = node.attrs.string('equation').replace(/\s+/g, '');
  if (equation.includes('.')) return [{ elemType }];
  const [lhs, rhs] = equation.split('->');
  const terms = lhs.split(',');
  const sizes = new Map<string, Dim>();
  const counts = new Map<string, number>();
  terms.forEach((term, k) => {
    const s = c.shape(node.inputs[k]);
    [...term].forEach((letter, i) => {
      counts.set(letter, (counts.get(letter) ?? 0) + 1);
      const d = s?.[i];
      const known = sizes.get(letter);
      if (d !== undefined && (known === undefined || known === 1)) sizes.set(letter, d);
    });
  });
  const output = rhs ?? [...counts].filter(([, n]) => n === 1).map(([letter]) => letter).sort().join('');
  return [{ elemType, shape: [...output].map((letter) => sizes.get(letter) ?? null) }];
};

/** Resize (scales at input 1 in opset 10, input 2 from 11; sizes at input 3) and Upsample (scales input or attribute). */
function resize(node: Node, c: ShapeContext) {
  const x = c.shape(node.inputs[0]);
  const elemType = c.elemType(node.inputs[0]);
  if (!x || node.attrs.has('axes')) return [{ elemType }];
  const legacyLayout = node.opType === 'Upsample' || node.inputs.length === 2;
  const scales = node.opType === 'Upsample' && node.attrs.has('scales') ? node.attrs.floatList('scales') : constantFloats(node.inputs[legacyLayout ? 1 : 2]);
  if (scales && scales.length === x.length) return [{ elemType, shape: x.map((d, i) => scaled(d, scales[i])) }];
  const sizes = legacyLayout ? undefined : c.constInts(node.inputs[3]);
  if (sizes && sizes.length === x.length) return [{ elemType, shape: sizes }];
  return [{ elemType, shape: x.map(() => null) }];
}

/** ReduceLogSum (not covered by the core reduction rule): axes an attribute before opset 18, an input from 18. */
const reduceLogSum: ShapeRule = (node, c) => {
  const x = c.shape(node.inputs[0]);
  const elemType = c.elemType(node.inputs[0]);
  if (!x) return [{ elemType }];
  const fromInput = (node.graph.opset('') ?? 0) >= 18;
  const axes = fromInput ? (node.inputs[1] ? c.constInts(node.inputs[1]) : []) : node.attrs.has('axes') ? node.attrs.ints('axes') : [];
  if (!axes) return [{ elemType }];
  if (axes.length === 0 && node.attrs.int('noop_with_empty_axes', 0) !== 0) return [{ elemType, shape: x }];
  const reduced = new Set(axes.length === 0 ? x.map((_, i) => i) : axes.map((a) => (a < 0 ? a + x.length : a)));
  const keep = node.attrs.int('keepdims', 1) !== 0;
  return [{ elemType, shape: keep ? x.map((d, i) => (reduced.has(i) ? 1 : d)) : x.filter((_, i) => !reduced.has(i)) }];
};

const broadcastAll: ShapeRule = (node, c) => [{ elemType: c.elemType(node.inputs[0]), shape: broadcastShapes(node.inputs.map((v) => c.shape(v))) }];

/** GatherND with batch_dims b: indices[:-1] ++ data[b + last index length:]. */
const gatherND: ShapeRule = (node, c) => {
  const data = c.shape(node.inputs[0]);
  const indices = c.shape(node.inputs[1]);
  const elemType = c.elemType(node.inputs[0]);
  const depth = indices?.[indices.length - 1];
  if (!data || !indices || typeof depth !== 'number') return [{ elemType }];
  return [{ elemType, shape: [...indices.slice(0, -1), ...data.slice(node.attrs.int('batch_dims', 0) + depth)] }];
};

/** Registers the rules above with the shape inference (idempotent). */
export function registerMoreShapeRules(): void {
  registerShapeRule(['InstanceNormalization', 'LRN', 'CumSum'], sameAsX);
  registerShapeRule(['Tile'], tile);
  registerShapeRule(['DepthToSpace', 'SpaceToDepth'], depthSpace);
  registerShapeRule(['GatherElements'], gatherElements);
  registerShapeRule(['Einsum'], einsum);
  registerShapeRule(['Resize', 'Upsample'], resize);
  registerShapeRule(['Atan', 'Asin', 'Acos', 'Asinh', 'Acosh', 'Atanh', 'Trilu', 'Hardmax'], sameAsX);
  registerShapeRule(['GroupNormalization', 'MeanVarianceNormalization', 'LpNormalization'], sameAsX);
  registerShapeRule(['ReduceLogSum'], reduceLogSum);
  registerShapeRule(['Mean'], broadcastAll);
  registerShapeRule(['GatherND'], gatherND);
}
