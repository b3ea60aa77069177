// Small models built in memory for the pass tests, in the form PyTorch's exporter writes them.
import * as ort from 'onnxruntime-node';
import { boolTensor, DataType, float, floatTensor, GraphBuilder, newModel, type Model, type Value } from '../../src/ir/index.js';
import { modelFromBytes, modelToBytes } from '../../src/model-io.js';
import { Rng } from '../../src/util/rng.js';

export function randomWeights(rng: Rng, n: number, scale = 0.5): number[] {
  return Array.from({ length: n }, () => rng.normal() * scale);
}

function weight(b: GraphBuilder, rng: Rng, name: string, dims: number[]): Value {
  return b.floatInit(name, randomWeights(rng, dims.reduce((a, d) => a * d, 1)), dims);
}

/** x[N,4] -> Gemm(fc1) -> Relu -> Gemm(fc2) -> Relu -> Gemm(fc3) -> logits[N,3] (opset 17 unless given). */
export function mlp(opts: { opset?: number; seed?: number } = {}): Model {
  const model = newModel({ opset: opts.opset ?? 17 });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const rng = new Rng(opts.seed ?? 1);
  const x = g.addInput('input', undefined).setTensorType(DataType.FLOAT, ['batch', 4]);
  let h = x;
  const sizes = [4, 8, 6, 3];
  for (let i = 1; i < sizes.length; i++) {
    const w = weight(b, rng, `fc${i}.weight`, [sizes[i], sizes[i - 1]]);
    const bias = weight(b, rng, `fc${i}.bias`, [sizes[i]]);
    const last = i === sizes.length - 1;
    h = b.op('Gemm', [h, w, bias], { alpha: float(1), beta: float(1), transB: 1 }, { name: `/fc${i}/Gemm`, output: last ? 'logits' : `/fc${i}/Gemm_output_0` });
    if (!last) h = b.op('Relu', [h], {}, { name: `/relu${i}/Relu`, output: `/relu${i}/Relu_output_0` });
  }
  h.setTensorType(DataType.FLOAT, ['batch', 3]);
  g.addOutput(h);
  return model;
}

/** x[N,1,6,6] -> Conv(3x3, 4 ch) -> Relu -> MaxPool(2) -> Flatten -> Gemm -> Relu -> Gemm -> logits[N,3]. */
export function cnn(opts: { seed?: number } = {}): Model {
  const model = newModel({ opset: 17 });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const rng = new Rng(opts.seed ?? 2);
  const x = g.addInput('input', undefined).setTensorType(DataType.FLOAT, ['batch', 1, 6, 6]);
  const conv = b.op('Conv', [x, weight(b, rng, 'conv.weight', [4, 1, 3, 3]), weight(b, rng, 'conv.bias', [4])], { pads: [1, 1, 1, 1] }, { name: '/conv/Conv' });
  const r1 = b.op('Relu', [conv], {}, { name: '/relu1/Relu' });
  const pool = b.op('MaxPool', [r1], { kernel_shape: [2, 2], strides: [2, 2] }, { name: '/pool/MaxPool' });
  const flat = b.op('Flatten', [pool], { axis: 1 }, { name: '/Flatten' });
  const fc1 = b.op('Gemm', [flat, weight(b, rng, 'fc1.weight', [8, 36]), weight(b, rng, 'fc1.bias', [8])], { transB: 1 }, { name: '/fc1/Gemm' });
  const r2 = b.op('Relu', [fc1], {}, { name: '/relu2/Relu' });
  const logits = b.op('Gemm', [r2, weight(b, rng, 'fc2.weight', [3, 8]), weight(b, rng, 'fc2.bias', [3])], { transB: 1 }, { name: '/fc2/Gemm', output: 'logits' });
  logits.setTensorType(DataType.FLOAT, ['batch', 3]);
  g.addOutput(logits);
  return model;
}

export function histogram(model: Model): Record<string, number> {
  const h: Record<string, number> = {};
  for (const n of model.graph.nodes) h[n.opType] = (h[n.opType] ?? 0) + 1;
  return Object.fromEntries(Object.entries(h).sort(([a], [b]) => a.localeCompare(b)));
}

export function withoutOp(h: Record<string, number>, op: string): Record<string, number> {
  return Object.fromEntries(Object.entries(h).filter(([k]) => k !== op));
}

export function clone(model: Model): Model {
  return modelFromBytes(modelToBytes(model));
}

export const names = (values: readonly Value[]) => values.map((v) => v.name);

/** Runs a model once in onnxruntime and returns the requested outputs as plain number arrays. */
export async function run(model: Model, feeds: Record<string, ort.Tensor>, outputs: string[]): Promise<Record<string, number[]>> {
  const session = await ort.InferenceSession.create(modelToBytes(model), { intraOpNumThreads: 1, logSeverityLevel: 3 });
  try {
    const result = await session.run(feeds, outputs);
    return Object.fromEntries(outputs.map((n) => [n, Array.from(result[n].data as Float32Array)]));
  } finally {
    await session.release();
  }
}

/** Sets the shared training switch that insert-dropout creates. */
export function setTrainingMode(model: Model, on: boolean): void {
  model.graph.requireValue('training_mode').initializer = boolTensor('training_mode', [on], []);
}

export { floatTensor };
