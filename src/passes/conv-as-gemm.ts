/**
 * conv-as-gemm: rewrites a 2-D Conv whose output has few positions per image into explicit im2col and one Gemm,
 * for the training step only (the model users export keeps its Conv).
 *
 *   Before:  X [N, C, H, W] -> Conv(W [M, C, kh, kw], B) -> Y [N, M, Ho, Wo]
 *   After:   P = Reshape(X, [N*C, H*W]) x S, S a constant 0/1 selection [H*W, Ho*Wo*kh*kw] (im2col, padding
 *            included), rearranged to [N*Ho*Wo, C*kh*kw];
 *            Y = Transpose(Reshape(Gemm(P, Reshape(W, [M, C*kh*kw]), B, transB=1), [N, Ho, Wo, M]), [0, 3, 1, 2])
 *
 * Why: onnxruntime's CPU Conv multiplies one image at a time, a GEMM of M x (C*kh*kw) by (C*kh*kw) x (Ho*Wo). With
 * Ho*Wo small (a ResNet's last stages on 32x32 images: 4 positions, or 1) that is a matrix-vector product per image,
 * and the gradient Convs are as badly shaped. With the batch in the GEMM's rows, the forward pass and both gradients
 * (Gemm's: P^T dY and dY W) are full-size matrix products, and im2col's own gradient is one more MatMul (dX = dP S^T).
 * The selection multiplies by zeros too: it costs H*W/M of the Gemm, so a Conv with H*W > M is left alone. P holds
 * at most C*kh*kw*MAX_POSITIONS values per image and S at most M*kh*kw*MAX_POSITIONS. onnxruntime's fast NCHWc
 * convolution is no alternative: it needs the weights as constants, and a step feeds them.
 *
 * When it applies: group 1, auto_pad NOTSET or VALID, C, H, W, M, the output's size and the kernel static, at most
 * MAX_POSITIONS output positions, H*W <= M, opset 13 or later. Results equal the Conv's up to float rounding (the
 * sums run in another order). compileTrainStep applies
 * it for CPU only: a GPU provider's convolutions have no such shape problem.
 */
import { GraphBuilder, type Model, type Node, type Value } from '../ir/index.js';
import { inferShapes } from '../ir/shape/infer.js';
import { replaceValue } from './rewire.js';

/**
 * Output positions per image up to which the rewrite pays. On the ResNet-18 step (batch 32, 32x32 images, Adam;
 * alternating in one process) rewriting outputs of up to 16 positions (layers 2-4) took 0.55x the time per step at
 * one thread and 0.61x at two; up to 4 positions, 1.06x the time of 16; up to 64 (layer 1 too), the same as 16 for
 * 4 times the im2col memory.
 */
export const MAX_POSITIONS = 16;

interface ConvPlan {
  node: Node;
  channels: number;
  /** M, the output channels. */
  filterCount: number;
  kernel: [number, number];
  /** H, W: the input's spatial sizes. */
  input: [number, number];
  out: [number, number];
  strides: [number, number];
  dilations: [number, number];
  /** top, left, bottom, right */
  pads: [number, number, number, number];
}

/** Rewrites every Conv that qualifies; returns the names of the nodes rewritten. */
export function convsAsGemm(model: Model, maxPositions = MAX_POSITIONS): string[] {
  const graph = model.graph;
  const convs = graph.nodes.filter((n) => n.opType === 'Conv' && n.domain === '');
  // Shape inference only for a model that has a Conv to rewrite: compileTrainStep calls this on every model.
  if (convs.length === 0 || (graph.opset('') ?? 0) < 13) return [];
  inferShapes(graph);
  const plans = convs.map((n) => planOf(n, maxPositions));
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
  const dims = [x[1], x[2], x[3], w[0], w[1], w[2], w[3], y[2], y[3]];
  if (!dims.every((d): d is number => typeof d === 'number')) return undefined;
  const [c, h, wd, m, wc, kh, kw, ho, wo] = dims;
  if (c !== wc || ho * wo > maxPositions || h * wd > m) return undefined;
  const pads = autoPad === 'VALID' ? [0, 0, 0, 0] : a.ints('pads', [0, 0, 0, 0]);
  if (pads.some((p) => p < 0)) return undefined;
  return {
    node,
    channels: c,
    filterCount: m,
    kernel: [kh, kw],
    input: [h, wd],
    out: [ho, wo],
    strides: a.ints('strides', [1, 1]) as [number, number],
    dilations: a.ints('dilations', [1, 1]) as [number, number],
    pads: pads as [number, number, number, number],
  };
}

function rewrite(plan: ConvPlan): void {
  const { node, channels, filterCount, out, input } = plan;
  const graph = node.graph;
  const b = new GraphBuilder(graph);
  b.insertBefore = node;
  b.namePrefix = `${node.name || 'Conv'}/as_gemm/`;
  const [x, w, bias] = node.inputs as [Value, Value, Value | null | undefined];
  const taps = plan.kernel[0] * plan.kernel[1];
  const positions = out[0] * out[1];
  // [N*C, H*W] x [H*W, positions*taps]: each column picks the input element one tap of one output position reads.
  const flat = b.op('Reshape', [x, b.ints([-1, input[0] * input[1]], 'pixels')]);
  const patches = b.op('MatMul', [flat, b.floatInit(graph.uniqueValueName(`${b.namePrefix}im2col`), im2colSelection(plan), [input[0] * input[1], positions * taps])]);
  // [N, C, positions, taps] -> [N, positions, C, taps]: one row per output position, columns in W's (c, i, j) order.
  const grouped = b.op('Reshape', [patches, b.ints([-1, channels, positions, taps], 'patches')]);
  const rows = b.op('Reshape', [b.op('Transpose', [grouped], { perm: [0, 2, 1, 3] }), b.ints([-1, channels * taps], 'rows')]);
  const filters = b.op('Reshape', [w, b.ints([0, channels * taps], 'filters')]);
  const product = b.op('Gemm', bias ? [rows, filters, bias] : [rows, filters], { transB: 1 });
  const y = node.output(0);
  const perImage = b.op('Reshape', [product, b.ints([-1, out[0], out[1], filterCount], 'positions')]);
  const result = b.op('Transpose', [perImage], { perm: [0, 3, 1, 2] });
  result.setTensorType(y.elemType!, y.shape ?? undefined);
  replaceValue(y, result);
  graph.removeNode(node);
}

/**
 * The 0/1 matrix [H*W, Ho*Wo*kh*kw] whose column (p, t) selects the input pixel that tap t of output position p
 * reads; a tap that falls in the padding selects nothing (a zero column). As a MatMul, im2col's gradient is one
 * more: dX = dP S^T, where strided Slices would give one Pad per tap.
 */
function im2colSelection(plan: ConvPlan): Float32Array {
  const { kernel, out, input, strides, dilations, pads } = plan;
  const taps = kernel[0] * kernel[1];
  const columns = out[0] * out[1] * taps;
  const s = new Float32Array(input[0] * input[1] * columns);
  for (let oh = 0; oh < out[0]; oh++) {
    for (let ow = 0; ow < out[1]; ow++) {
      for (let i = 0; i < kernel[0]; i++) {
        for (let j = 0; j < kernel[1]; j++) {
          const r = oh * strides[0] - pads[0] + i * dilations[0];
          const c = ow * strides[1] - pads[1] + j * dilations[1];
          if (r < 0 || r >= input[0] || c < 0 || c >= input[1]) continue;
          s[(r * input[1] + c) * columns + (oh * out[1] + ow) * taps + i * kernel[1] + j] = 1;
        }
      }
    }
  }
  return s;
}
