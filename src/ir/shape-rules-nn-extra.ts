/*
 * Static shape rules for the NN ops whose gradients live in src/autodiff/rules/extra-nn-list.ts: ConvTranspose, and
 * Pad again with its opset-18 `axes` input (this rule replaces the one in shape-rules.ts, which it extends;
 * ReduceMax/ReduceMin and GlobalMaxPool have theirs already). Registered by registerExtraNnShapeRules() after the
 * others; a dim that cannot be computed statically stays null.
 */
import type { Node } from './node.js';
import { registerShapeRule, type ShapeContext } from './shape-inference.js';
import type { Dim } from './value.js';

/**
 * ConvTranspose: Y [N, W[1]*group, *S'] with S' = (S-1)*s + op + (k-1)*d + 1 - pb - pe, or output_shape when given,
 * or S*s under auto_pad SAME_* (the spec's rule).
 */
function convTransposeShape(node: Node, c: ShapeContext) {
  const x = c.shape(node.inputs[0]);
  const w = c.shape(node.inputs[1]);
  const elemType = c.elemType(node.inputs[0]);
  const group = node.attrs.int('group', 1);
  const channels: Dim = w && typeof w[1] === 'number' ? w[1] * group : null;
  const rank = x?.length ?? w?.length;
  if (rank === undefined) return [{ elemType }];
  const r = rank - 2;
  const unknown = Array.from({ length: r }, (): Dim => null);
  const kernel = node.attrs.has('kernel_shape') ? node.attrs.ints('kernel_shape') : w?.slice(2);
  if (!x || !kernel || kernel.length !== r || kernel.some((k) => typeof k !== 'number')) {
    return [{ elemType, shape: [x?.[0] ?? null, channels, ...unknown] }];
  }
  const a = node.attrs;
  const zeros = kernel.map(() => 0);
  const ones = kernel.map(() => 1);
  const strides = a.ints('strides', ones);
  let spatial: Dim[];
  if (a.has('output_shape')) {
    const given = a.ints('output_shape');
    spatial = given.length === r ? given : given.slice(-r);
  } else if (['SAME_UPPER', 'SAME_LOWER'].includes(a.string('auto_pad', 'NOTSET'))) {
    spatial = x.slice(2).map((n, i) => (typeof n === 'number' ? n * strides[i] : null));
  } else {
    const dilations = a.ints('dilations', ones);
    const outputPadding = a.ints('output_padding', zeros);
    const pads = a.string('auto_pad', 'NOTSET') === 'VALID' ? [...zeros, ...zeros] : a.ints('pads', [...zeros, ...zeros]);
    spatial = x.slice(2).map((n, i) =>
      typeof n === 'number' ? (n - 1) * strides[i] + outputPadding[i] + ((kernel[i] as number) - 1) * dilations[i] + 1 - pads[i] - pads[i + r] : null,
    );
  }
  return [{ elemType, shape: [x[0], channels, ...spatial] }];
}

/** Pad: each padded axis grows by its begin + end pads (negative pads crop); `axes` (opset 18) picks the axes. */
function padShape(node: Node, c: ShapeContext) {
  const x = c.shape(node.inputs[0]);
  const elemType = c.elemType(node.inputs[0]);
  const pads = node.attrs.has('pads') ? node.attrs.ints('pads') : c.constInts(node.inputs[1]);
  if (!x || !pads) return [{ elemType }];
  const r = x.length;
  const given = node.inputs[3] ? c.constInts(node.inputs[3]) : Array.from({ length: r }, (_, i) => i);
  if (!given || pads.length !== 2 * given.length) return [{ elemType, shape: x.map((): Dim => null) }];
  const extra = x.map(() => 0);
  given.forEach((a, i) => {
    const axis = a < 0 ? a + r : a;
    extra[axis] += pads[i] + pads[i + given.length];
  });
  return [{ elemType, shape: x.map((d, i) => (typeof d === 'number' ? d + extra[i] : extra[i] === 0 ? d : null)) }];
}

/** Registers the rules above with the shape inference (idempotent). */
export function registerExtraNnShapeRules(): void {
  registerShapeRule(['ConvTranspose'], convTransposeShape);
  registerShapeRule(['Pad'], padShape);
}
