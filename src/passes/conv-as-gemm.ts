/**
 * conv-as-gemm: rewrites a 2-D Conv whose output has few positions per image into explicit im2col and one Gemm,
 * for the training step only (the model users export keeps its Conv).
 *
 *   Before:  X [N, C, H, W] -> Conv(W [M, C, kh, kw], B) -> Y [N, M, Ho, Wo]
 *   After:   P = the kh*kw strided Slices of Pad(X), stacked: [N, C, Ho, Wo, kh*kw] -> [N*Ho*Wo, C*kh*kw]
 *            Y = Transpose(Reshape(Gemm(P, Reshape(W, [M, C*kh*kw]), B, transB=1), [N, Ho, Wo, M]), [0, 3, 1, 2])
 *
 * Why: onnxruntime's CPU Conv multiplies one image at a time, a GEMM of M x (C*kh*kw) by (C*kh*kw) x (Ho*Wo). With
 * Ho*Wo small (a ResNet's last stages on 32x32 images: 4 positions, or 1) that is a matrix-vector product per image,
 * and the gradient Convs are as badly shaped. With the batch in the GEMM's rows, the forward pass and both gradients
 * (Gemm's: P^T dY and dY W) are full-size matrix products. The im2col matrix holds N*Ho*Wo*C*kh*kw values, at most
 * C*kh*kw*MAX_POSITIONS per image: small exactly where the rewrite applies. onnxruntime's fast NCHWc convolution
 * is not an alternative here: it needs the weights as constants, and a step feeds them.
 *
 * When it applies: group 1, auto_pad NOTSET or VALID, C, H, W, the output's size and the kernel static, opset 13
 * or later. Results equal the Conv's up to float rounding (the sums run in another order). compileTrainStep applies
 * it for CPU only: a GPU provider's convolutions have no such shape problem.
 */
import { GraphBuilder, type Model, type Node, type Value } from '../ir/index.js';
import { inferShapes } from '../ir/shape/infer.js';
import { replaceValue } from './rewire.js';

/**
 * Output positions per image up to which the rewrite pays. On the ResNet-18 step (batch 32, 32x32 images, Adam;
 * alternating in one process) rewriting the outputs of up to 16 positions (layers 2-4) took 0.74x the time per step
 * at one thread; up to 4 positions the same as 16; up to 64 (layer 1 too) 1.10x the time of 16.
 */
export const MAX_POSITIONS = 16;

interface ConvPlan {
  node: Node;
  channels: number;
  /** M, the output channels. */
  filterCount: number;
  kernel: [number, number];
  out: [number, number];
  strides: [number, number];
  dilations: [number, number];
  /** top, left, bottom, right */
  pads: [number, number, number, number];
}

/** Rewrites every Conv that qualifies; returns the names of the nodes rewritten. */
export function convsAsGemm(model: Model, maxPositions = MAX_POSITIONS): string[] {
  const graph = model.graph;
  if ((graph.opset('') ?? 0) < 13) return [];
  inferShapes(graph);
  const plans = graph.nodes.filter((n) => n.opType === 'Conv' && n.domain === '').map((n) => planOf(n, maxPositions));
  const rewritten: string[] = [];
  for (const plan of plans) {
    if (!plan) continue;
    rewrite(plan);
    rewritten.push(plan.node.name);
  }
  if (rewritten.length > 0) graph.toposort();
  return rewritten;
}

function planOf(node: Node, maxPositions: number): ConvPlan | undefined {
  const x = node.inputs[0]?.shape;
  const w = node.inputs[1]?.shape;
  const y = node.outputs[0]?.shape;
  const a = node.attrs;
  if (!x || !w || !y || x.length !== 4 || w.length !== 4 || y.length !== 4) return undefined;
  if (a.int('group', 1) !== 1) return undefined;
  const autoPad = a.string('auto_pad', 'NOTSET');
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID') return undefined;
  const [, c, h, wd] = x;
  const [m, wc, kh, kw] = w;
  const [, , ho, wo] = y;
  const statics = [c, h, wd, m, wc, kh, kw, ho, wo];
  if (!statics.every((d): d is number => typeof d === 'number') || c !== wc) return undefined;
  if ((ho as number) * (wo as number) > maxPositions) return undefined;
  const pads = autoPad === 'VALID' ? [0, 0, 0, 0] : a.ints('pads', [0, 0, 0, 0]);
  if (pads.some((p) => p < 0)) return undefined;
  return {
    node,
    channels: c as number,
    filterCount: m as number,
    kernel: [kh as number, kw as number],
    out: [ho as number, wo as number],
    strides: a.ints('strides', [1, 1]) as [number, number],
    dilations: a.ints('dilations', [1, 1]) as [number, number],
    pads: pads as [number, number, number, number],
  };
}

function rewrite(plan: ConvPlan): void {
  const { node, channels, filterCount, kernel, out, strides, dilations, pads } = plan;
  const graph = node.graph;
  const b = new GraphBuilder(graph);
  b.insertBefore = node;
  b.namePrefix = `${node.name || 'Conv'}/as_gemm/`;
  const [x, w, bias] = node.inputs as [Value, Value, Value | null | undefined];
  const taps = kernel[0] * kernel[1];
  const padded = pads.some((p) => p > 0) ? b.op('Pad', [x, b.ints([0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]], 'pads')]) : x;
  const columns: Value[] = [];
  for (let i = 0; i < kernel[0]; i++) {
    for (let j = 0; j < kernel[1]; j++) {
      const starts = [i * dilations[0], j * dilations[1]];
      const ends = starts.map((s, k) => s + (out[k] - 1) * strides[k] + 1);
      const tap = b.op('Slice', [padded, b.ints(starts, 'starts'), b.ints(ends, 'ends'), b.ints([2, 3], 'axes'), b.ints(strides, 'steps')]);
      columns.push(b.unsqueeze(tap, [4]));
    }
  }
  // [N, C, Ho, Wo, taps] -> [N, Ho, Wo, C, taps] -> one row per output position, columns in W's (c, i, j) order.
  const stacked = columns.length === 1 ? columns[0] : b.op('Concat', columns, { axis: 4 });
  const rows = b.op('Reshape', [b.op('Transpose', [stacked], { perm: [0, 2, 3, 1, 4] }), b.ints([-1, channels * taps], 'rows')]);
  const filters = b.op('Reshape', [w, b.ints([0, channels * taps], 'filters')]);
  const product = b.op('Gemm', bias ? [rows, filters, bias] : [rows, filters], { transB: 1 });
  const y = node.output(0);
  const perImage = b.op('Reshape', [product, b.ints([-1, out[0], out[1], filterCount], 'positions')]);
  const result = b.op('Transpose', [perImage], { perm: [0, 3, 1, 2] });
  result.setTensorType(y.elemType!, y.shape ?? undefined);
  replaceValue(y, result);
  graph.removeNode(node);
}
