import { RegraftError } from '../errors.js';
import { GraphBuilder } from '../ir/builder.js';
import { DataType } from '../ir/dtype.js';
import { newModel, type Model } from '../ir/model.js';
import type { Value } from '../ir/value.js';
import { Rng } from '../util/rng.js';

/**
 * Sample models written with the IR builder in the form PyTorch's exporter writes them (Gemm with transB=1 and
 * weights [out, in], Flatten before the first Linear), initialized like PyTorch's defaults (uniform in
 * +-1/sqrt(fan_in) for Linear and Conv weights and biases), so no PyTorch is needed to get started.
 */
export interface MlpOptions {
  /** Input features (784 for MNIST). */
  inputs?: number;
  /** Hidden layer widths: [128] is the article's 784-128-10 network. */
  hidden?: readonly number[];
  classes?: number;
  /** Input shape per sample (default [inputs]); [1, 28, 28] adds a Flatten, as PyTorch models of images do. */
  sampleShape?: readonly number[];
  seed?: number;
  opset?: number;
  /** Name of the output (default `logits`; a regression model may call it `prediction`). */
  output?: string;
}

export function buildMlp(opts: MlpOptions = {}): Model {
  const inputs = opts.inputs ?? 784;
  const hidden = opts.hidden ?? [128];
  const classes = opts.classes ?? 10;
  for (const w of [inputs, ...hidden, classes]) {
    if (!Number.isInteger(w) || w < 1) throw new RegraftError(`MLP layer widths must be positive integers, got ${w}`);
  }
  const model = newModel({ opset: opts.opset ?? 17, graphName: 'mlp' });
  const graph = model.graph;
  const b = new GraphBuilder(graph);
  const rng = new Rng(opts.seed ?? 0);
  const sampleShape = opts.sampleShape ?? [inputs];
  let h: Value = graph.addInput('input').setTensorType(DataType.FLOAT, ['N', ...sampleShape]);
  if (sampleShape.length > 1) h = b.op('Flatten', [h], { axis: 1 }, { name: 'flatten' });
  const widths = [inputs, ...hidden, classes];
  for (let i = 0; i < widths.length - 1; i++) {
    const last = i === widths.length - 2;
    h = linear(b, rng, `fc${i + 1}`, h, widths[i], widths[i + 1], last ? (opts.output ?? 'logits') : undefined);
    if (!last) h = b.op('Relu', [h], {}, { name: `relu${i + 1}` });
  }
  h.setTensorType(DataType.FLOAT, ['N', classes]);
  graph.addOutput(h);
  return model;
}

/** LeNet-5 for 28x28 inputs: two Conv+ReLU+MaxPool stages, then 120-84-classes fully connected layers. */
export function buildLeNet(opts: { classes?: number; seed?: number; opset?: number } = {}): Model {
  const classes = opts.classes ?? 10;
  const model = newModel({ opset: opts.opset ?? 17, graphName: 'lenet5' });
  const graph = model.graph;
  const b = new GraphBuilder(graph);
  const rng = new Rng(opts.seed ?? 0);
  let h: Value = graph.addInput('input').setTensorType(DataType.FLOAT, ['N', 1, 28, 28]);
  h = conv(b, rng, 'conv1', h, 1, 6, 5, 2);
  h = b.op('MaxPool', [b.op('Relu', [h], {}, { name: 'relu1' })], { kernel_shape: [2, 2], strides: [2, 2] }, { name: 'pool1' });
  h = conv(b, rng, 'conv2', h, 6, 16, 5, 0);
  h = b.op('MaxPool', [b.op('Relu', [h], {}, { name: 'relu2' })], { kernel_shape: [2, 2], strides: [2, 2] }, { name: 'pool2' });
  h = b.op('Flatten', [h], { axis: 1 }, { name: 'flatten' });
  h = b.op('Relu', [linear(b, rng, 'fc1', h, 16 * 5 * 5, 120)], {}, { name: 'relu3' });
  h = b.op('Relu', [linear(b, rng, 'fc2', h, 120, 84)], {}, { name: 'relu4' });
  h = linear(b, rng, 'fc3', h, 84, classes, 'logits');
  h.setTensorType(DataType.FLOAT, ['N', classes]);
  graph.addOutput(h);
  return model;
}

// The layer builders the sample models are made of, exported for tests that build small models of their own.

/** n draws from U(-bound, bound), in order. */
export function uniform(rng: Rng, n: number, bound: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform(-bound, bound);
  return out;
}

/** A Gemm layer `name` (weight [fanOut, fanIn], transB=1, and bias), initialized as PyTorch's nn.Linear: U(+-1/sqrt(fanIn)). */
export function linear(b: GraphBuilder, rng: Rng, name: string, x: Value, fanIn: number, fanOut: number, output?: string): Value {
  const bound = 1 / Math.sqrt(fanIn);
  const w = b.floatInit(`${name}.weight`, uniform(rng, fanIn * fanOut, bound), [fanOut, fanIn]);
  const bias = b.floatInit(`${name}.bias`, uniform(rng, fanOut, bound), [fanOut]);
  return b.op('Gemm', [x, w, bias], { transB: 1 }, { name, output });
}

/** A square k x k Conv layer `name` padded by `pad` on every side, with or without bias, initialized as nn.Conv2d. */
export function conv(b: GraphBuilder, rng: Rng, name: string, x: Value, cin: number, cout: number, k: number, pad: number, bias = true): Value {
  const bound = 1 / Math.sqrt(cin * k * k);
  const w = b.floatInit(`${name}.weight`, uniform(rng, cout * cin * k * k, bound), [cout, cin, k, k]);
  const inputs = bias ? [x, w, b.floatInit(`${name}.bias`, uniform(rng, cout, bound), [cout])] : [x, w];
  return b.op('Conv', inputs, { kernel_shape: [k, k], pads: [pad, pad, pad, pad] }, { name });
}
