// Test-only models for the training-step compiler, built with the IR builder and kept small so that every
// gradient check through onnxruntime stays fast. Weights are seeded; inputs come from `randomFeeds`.
import { Tensor } from 'onnxruntime-node';
import { float } from '../../src/ir/attributes.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/dtype.js';
import { newModel, type Model } from '../../src/ir/model.js';
import type { Value } from '../../src/ir/value.js';
import { buildMlp, conv, linear, uniform } from '../../src/models/builders.js';
import { insertDropout } from '../../src/passes/insert-dropout.js';
import { Rng } from '../../src/util/rng.js';

/** The article's MLP at test size: input [N, 20] -> Gemm 16 -> Relu -> Dropout(0.5, inference mode) -> Gemm 5. */
export function smallMlp(opts: { dropout?: boolean; seed?: number } = {}): Model {
  const model = buildMlp({ inputs: 20, hidden: [16], classes: 5, seed: opts.seed ?? 3 });
  if (opts.dropout ?? true) insertDropout(model, { after: ['Relu'], ratio: 0.5, seed: 7 });
  return model;
}

/** A LeNet-style CNN on [N, 1, 8, 8]: Conv 3x3 (3) -> Relu -> MaxPool 2 -> Conv 3x3 (4) -> Relu -> Flatten -> Gemm 12 -> Relu -> Gemm 5. */
export function smallLeNet(seed = 5): Model {
  const model = newModel({ opset: 17, graphName: 'small_lenet' });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const rng = new Rng(seed);
  let h: Value = g.addInput('input').setTensorType(DataType.FLOAT, ['N', 1, 8, 8]);
  h = conv(b, rng, 'conv1', h, 1, 3, 3, 1);
  h = b.op('MaxPool', [b.op('Relu', [h], {}, { name: 'relu1' })], { kernel_shape: [2, 2], strides: [2, 2] }, { name: 'pool1' });
  h = conv(b, rng, 'conv2', h, 3, 4, 3, 0);
  h = b.op('Flatten', [b.op('Relu', [h], {}, { name: 'relu2' })], { axis: 1 }, { name: 'flatten' });
  h = b.op('Relu', [linear(b, rng, 'fc1', h, 4 * 2 * 2, 12)], {}, { name: 'relu3' });
  h = linear(b, rng, 'fc2', h, 12, 5, 'logits');
  h.setTensorType(DataType.FLOAT, ['N', 5]);
  g.addOutput(h);
  return model;
}

/**
 * A residual block with BatchNormalization (inference-form nodes, as PyTorch exports them in eval mode), opset 17:
 *   x [N,3,4,4] -> Conv(4) -> BN -> Relu -> Conv(4) -> BN -> Add(skip = Conv 1x1 of x) -> Relu -> GlobalAveragePool
 *     -> Flatten -> Gemm 5
 */
export function bnResidualCnn(seed = 11): Model {
  const model = newModel({ opset: 17, graphName: 'bn_residual' });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const rng = new Rng(seed);
  const c = 4;
  const batchNorm = (name: string, x: Value): Value => {
    const scale = b.floatInit(`${name}.weight`, Float32Array.from({ length: c }, () => rng.uniform(0.5, 1.5)), [c]);
    const shift = b.floatInit(`${name}.bias`, uniform(rng, c, 0.5), [c]);
    const mean = b.floatInit(`${name}.running_mean`, uniform(rng, c, 0.1), [c]);
    const variance = b.floatInit(`${name}.running_var`, Float32Array.from({ length: c }, () => rng.uniform(0.8, 1.2)), [c]);
    return b.op('BatchNormalization', [x, scale, shift, mean, variance], { epsilon: 1e-5, momentum: 0.9 }, { name });
  };
  const x = g.addInput('input').setTensorType(DataType.FLOAT, ['N', 3, 4, 4]);
  let h = b.op('Relu', [batchNorm('bn1', conv(b, rng, 'conv1', x, 3, c, 3, 1, false))], {}, { name: 'relu1' });
  h = batchNorm('bn2', conv(b, rng, 'conv2', h, c, c, 3, 1, false));
  const skip = conv(b, rng, 'skip', x, 3, c, 1, 0);
  h = b.op('Relu', [b.add(h, skip)], {}, { name: 'relu2' });
  h = b.op('Flatten', [b.op('GlobalAveragePool', [h], {}, { name: 'gap' })], { axis: 1 }, { name: 'flatten' });
  h = linear(b, rng, 'fc', h, c, 5, 'logits');
  h.setTensorType(DataType.FLOAT, ['N', 5]);
  g.addOutput(h);
  return model;
}

/**
 * One self-attention block over x [N, T, D], opset 17:
 *   Q, K, V = x Wq, x Wk, x Wv;  A = Softmax(Q K^T / sqrt(D));  h = LayerNormalization(x + A V)
 *   -> ReduceMean over T -> Gemm to classes
 */
export function attentionBlock(opts: { tokens?: number; dim?: number; classes?: number; seed?: number } = {}): Model {
  const t = opts.tokens ?? 4;
  const d = opts.dim ?? 6;
  const classes = opts.classes ?? 3;
  const model = newModel({ opset: 17, graphName: 'attention' });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const rng = new Rng(opts.seed ?? 13);
  const x = g.addInput('input').setTensorType(DataType.FLOAT, ['N', t, d]);
  const proj = (name: string) => b.op('MatMul', [x, b.floatInit(`${name}.weight`, uniform(rng, d * d, 1 / Math.sqrt(d)), [d, d])], {}, { name });
  const q = proj('q');
  const k = proj('k');
  const v = proj('v');
  const scores = b.op('MatMul', [q, b.op('Transpose', [k], { perm: [0, 2, 1] }, { name: 'k_t' })], {}, { name: 'qk' });
  const attn = b.op('Softmax', [b.op('Mul', [scores, b.scalar(1 / Math.sqrt(d), 'inv_sqrt_d')], {}, { name: 'scale' })], { axis: -1 }, { name: 'softmax' });
  const mixed = b.op('MatMul', [attn, v], {}, { name: 'attend' });
  const gamma = b.floatInit('ln.weight', Float32Array.from({ length: d }, () => rng.uniform(0.5, 1.5)), [d]);
  const beta = b.floatInit('ln.bias', uniform(rng, d, 0.5), [d]);
  const normed = b.op('LayerNormalization', [b.add(x, mixed), gamma, beta], { axis: -1, epsilon: float(1e-5) }, { name: 'ln' });
  const pooled = b.op('ReduceMean', [normed], { axes: [1], keepdims: 0 }, { name: 'pool' });
  const logits = linear(b, rng, 'fc', pooled, d, classes, 'logits');
  logits.setTensorType(DataType.FLOAT, ['N', classes]);
  g.addOutput(logits);
  return model;
}

/** loss = ReduceSum(W * x) with W [n] a parameter, so dloss/dW = x exactly (an optimizer test bench). */
export function linearSumModel(w: readonly number[]): Model {
  const model = newModel({ opset: 17, graphName: 'linear_sum' });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const x = g.addInput('input').setTensorType(DataType.FLOAT, [w.length]);
  const wv = b.floatInit('W', Float32Array.from(w), [w.length]);
  const y = b.op('Mul', [wv, x], {}, { name: 'scale' });
  y.setTensorType(DataType.FLOAT, [w.length]);
  g.addOutput(y);
  return model;
}

/** Seeded float data for every float graph input (symbolic dims become `batch`) and int64 class labels. */
export function randomFeeds(model: Model, opts: { batch: number; classes?: number; seed?: number; labels?: string }): Record<string, Tensor> {
  const rng = new Rng(opts.seed ?? 1);
  const feeds: Record<string, Tensor> = {};
  for (const input of model.graph.inputs.filter((v) => !v.initializer)) {
    const dims = (input.shape ?? []).map((dim) => (typeof dim === 'number' ? dim : opts.batch));
    const n = dims.reduce((a, c) => a * c, 1);
    feeds[input.name] = new Tensor('float32', Float32Array.from({ length: n }, () => rng.normal()), dims);
  }
  if (opts.classes !== undefined) {
    feeds[opts.labels ?? 'labels'] = new Tensor('int64', BigInt64Array.from({ length: opts.batch }, () => BigInt(rng.int(opts.classes!))), [opts.batch]);
  }
  return feeds;
}
