// Shared helpers for gradient-rule tests (math and NN rules alike).
//
// makeOpModel builds the standard one-op test model
//     y = Op(inputs...);  loss = ReduceSum(Mul(y, R))        (R a fixed random initializer, so dy = R)
// and checkGradients compares regraft's backward pass with central differences through onnxruntime.
import type { Tensor } from 'onnxruntime-node';
import { buildBackward } from '../../src/autodiff/backward.js';
import { gradcheck, type ParamGradCheck } from '../../src/check/gradcheck.js';
import type { AttrValue } from '../../src/ir/attributes.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/dtype.js';
import { newModel, type Model } from '../../src/ir/model.js';
import { inferShapes } from '../../src/ir/shape-inference.js';
import { boolTensor, floatTensor, int64Tensor } from '../../src/ir/tensor.js';
import type { Value } from '../../src/ir/value.js';
import { modelFromBytes, modelToBytes } from '../../src/model-io.js';
import { createSession } from '../../src/runtime/session.js';
import { floatTensor as ortFloat } from '../../src/runtime/tensors.js';
import { Rng } from '../../src/util/rng.js';

/**
 * One input of the op under test.
 * - 'param': float initializer, differentiated and checked (random unless `values`).
 * - 'input': float graph input, fed with random values (data: must get no gradient).
 * - 'const': float initializer that is not checked (e.g. Dropout's ratio).
 * - 'int': int64 initializer (`values` required): indices, shapes, axes.
 * - 'bool': bool initializer (`values` as 0/1).
 * - 'absent': an omitted optional input (empty slot).
 */
export interface OpInput {
  name: string;
  shape?: number[];
  kind: 'param' | 'input' | 'const' | 'int' | 'bool' | 'absent';
  values?: number[];
  /** Random values are uniform in this range (default [-1, 1]). */
  range?: [number, number];
  /** Random values closer than this to 0 are pushed away (keeps kinks such as Relu's out of the check). */
  minAbs?: number;
}

export interface OpModelSpec {
  op: string;
  inputs: OpInput[];
  attrs?: Record<string, AttrValue | undefined>;
  /** ai.onnx opset (default 17). */
  opset?: number;
  domain?: string;
  /** Number of node outputs (default 1). */
  outputs?: number;
  /** Which outputs enter the loss (default [0]); each gets its own random R. */
  lossOutputs?: number[];
  /** Static output shapes, when shape inference cannot find them (indexed like the node's outputs). */
  outputShapes?: (number[] | undefined)[];
  seed?: number;
}

export interface OpModel {
  model: Model;
  /** Feeds for 'input' kinds. */
  feeds: Record<string, Tensor>;
  /** Names of the 'param' inputs. */
  params: string[];
  loss: string;
  /** Values of every initializer and feed, by name (for hand computations). */
  values: Record<string, Float32Array>;
  /** The R tensors that weight each loss output, by output index. */
  weights: Float32Array[];
  op: string;
}

function randomValues(rng: Rng, n: number, spec: OpInput): Float32Array {
  const [lo, hi] = spec.range ?? [-1, 1];
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let x = rng.uniform(lo, hi);
    if (spec.minAbs !== undefined && Math.abs(x) < spec.minAbs) x = x < 0 ? x - spec.minAbs : x + spec.minAbs;
    out[i] = x;
  }
  return out;
}

const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Builds `loss = sum_k ReduceSum(Mul(y_k, R_k))` around one node of `spec.op`. */
export function makeOpModel(spec: OpModelSpec): OpModel {
  const rng = new Rng(spec.seed ?? 1);
  const model = newModel({ opset: spec.opset ?? 17 });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const feeds: Record<string, Tensor> = {};
  const values: Record<string, Float32Array> = {};
  const params: string[] = [];

  const inputs: (Value | null)[] = spec.inputs.map((inp) => {
    const shape = inp.shape ?? [];
    if (inp.kind === 'absent') return null;
    if (inp.kind === 'int') {
      if (!inp.values) throw new Error(`makeOpModel: int input '${inp.name}' needs values`);
      return g.addInitializer(int64Tensor(inp.name, inp.values, shape), { exactName: true }).setTensorType(DataType.INT64, shape);
    }
    if (inp.kind === 'bool') {
      if (!inp.values) throw new Error(`makeOpModel: bool input '${inp.name}' needs values`);
      return g.addInitializer(boolTensor(inp.name, inp.values.map(Boolean), shape), { exactName: true }).setTensorType(DataType.BOOL, shape);
    }
    const data = inp.values ? Float32Array.from(inp.values) : randomValues(rng, count(shape), inp);
    if (data.length !== count(shape)) throw new Error(`makeOpModel: '${inp.name}' has ${data.length} values for shape ${JSON.stringify(shape)}`);
    values[inp.name] = data;
    if (inp.kind === 'input') {
      feeds[inp.name] = ortFloat(data, shape);
      return g.addInput(inp.name).setTensorType(DataType.FLOAT, shape);
    }
    if (inp.kind === 'param') params.push(inp.name);
    return g.addInitializer(floatTensor(inp.name, data, shape), { exactName: true }).setTensorType(DataType.FLOAT, shape);
  });

  const outputs = b.ops(spec.op, inputs, spec.attrs ?? {}, spec.outputs ?? 1, { name: spec.op.toLowerCase(), domain: spec.domain });
  outputs.forEach((y, i) => (y.rename(i === 0 ? 'y' : `y${i}`)));
  inferShapes(g);

  const terms: Value[] = [];
  const weights: Float32Array[] = [];
  for (const k of spec.lossOutputs ?? [0]) {
    let y = outputs[k];
    const shape = spec.outputShapes?.[k] ?? y.shape;
    if (!shape || shape.some((d) => typeof d !== 'number')) {
      throw new Error(`makeOpModel: shape of ${spec.op} output ${k} is not static (${JSON.stringify(shape)}); pass outputShapes`);
    }
    const dims = shape as number[];
    const r = randomValues(rng, count(dims), { name: 'R', kind: 'const' });
    weights[k] = r;
    values[`R${k}`] = r;
    const R = b.floatInit(`R${k}`, r, dims);
    // Non-float outputs (Cast to double, ...) are brought back to float so R can weight them.
    if (y.elemType !== undefined && y.elemType !== DataType.FLOAT) y = b.op('Cast', [y], { to: DataType.FLOAT });
    terms.push(b.reduceSum(b.mul(y, R), undefined, false));
  }
  const total = terms.length === 1 ? terms[0] : b.op('Sum', terms);
  const loss = b.identity(total, 'loss');
  g.addOutput(loss);
  return { model, feeds, params, loss: 'loss', values, weights, op: spec.op };
}

export interface CheckOptions {
  /** Largest acceptable maxRelError (default 1e-2). */
  tol?: number;
  eps?: number;
  samplesPerParam?: number;
  /** Named in failure messages (e.g. the shape case). */
  label?: string;
}

/** Central-difference check of every param; throws one readable message listing the params that are off. */
export async function checkGradients(m: OpModel, opts: CheckOptions = {}): Promise<ParamGradCheck[]> {
  const tol = opts.tol ?? 1e-2;
  const results = await gradcheck({
    model: m.model,
    loss: m.loss,
    feeds: m.feeds,
    params: m.params,
    eps: opts.eps,
    samplesPerParam: opts.samplesPerParam,
  });
  const bad = results.filter((r) => !(r.maxRelError < tol));
  if (bad.length > 0) {
    const what = bad
      .map((r) => `'${r.param}' maxRelError ${r.maxRelError.toExponential(2)} (maxAbsError ${r.maxAbsError.toExponential(2)}, ${r.checked} elements)`)
      .join('; ');
    throw new Error(`${m.op}${opts.label ? ` [${opts.label}]` : ''}: gradient off, tolerance ${tol}: ${what}`);
  }
  return results;
}

export interface ComputedGradient {
  data: Float32Array;
  dims: number[];
}

/**
 * Runs the backward pass (on a copy) in onnxruntime and returns `<param>_grad` values by param name, plus the
 * backward graph for inspection.
 */
export async function computeGradients(
  m: OpModel,
  opts: { params?: string[]; fetch?: string[]; feeds?: Record<string, Tensor> } = {},
): Promise<{ grads: Record<string, ComputedGradient>; model: Model; loss: number; fetched: Record<string, Tensor> }> {
  const copy = modelFromBytes(modelToBytes(m.model), 'test');
  const g = copy.graph;
  const lossValue = g.requireValue(m.loss);
  const { grads } = buildBackward(copy, { loss: lossValue, wrt: (opts.params ?? m.params).map((p) => g.requireValue(p)) });
  for (const v of grads.values()) g.addOutput(v);
  // Extra values to fetch (e.g. a Dropout mask), when they are not graph outputs already.
  for (const name of opts.fetch ?? []) if (!g.outputs.some((o) => o.name === name)) g.addOutput(g.requireValue(name));
  const session = await createSession(modelToBytes(copy), { name: `${m.op} backward` });
  try {
    const out = await session.run(opts.feeds ?? m.feeds);
    const result: Record<string, ComputedGradient> = {};
    for (const [p, v] of grads) result[p.name] = { data: out[v.name].data as Float32Array, dims: [...out[v.name].dims] };
    return { grads: result, model: copy, loss: Number((out[m.loss].data as Float32Array)[0]), fetched: out };
  } finally {
    await session.release();
  }
}

/** Asserts two float arrays agree elementwise within `tol` (absolute + relative), naming the first mismatch. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-4, label = ''): void {
  if (actual.length !== expected.length) throw new Error(`${label}: ${actual.length} values, expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (!(Math.abs(a - e) <= tol * (1 + Math.abs(e)))) {
      throw new Error(`${label}: element ${i} is ${a}, expected ${e} (tolerance ${tol}); actual [${Array.from(actual).slice(0, 12).join(', ')}]`);
    }
  }
}
