// Shared helpers for the autodiff tests.
//
// makeOpModel builds the standard one-op test model
//     y = Op(inputs...);  loss = ReduceSum(Mul(y, R))        (R a fixed random initializer, so dy = R)
// and checkGradients compares regraft's backward pass with central differences through onnxruntime.
// Below them: input generators that keep central differences away from kinks and ties, the shared checks of
// one-input pointwise rules, and small runners (a forward op alone, a backward pass that must be refused).
import type { Tensor } from 'onnxruntime-node';
import { it } from 'vitest';
import { buildBackward } from '../../src/autodiff/backward.js';
import { gradcheck, type ParamGradCheck } from '../../src/check/gradcheck.js';
import { float, type AttrValue } from '../../src/ir/attributes.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/dtype.js';
import { newModel, type Model } from '../../src/ir/model.js';
import { inferShapes } from '../../src/ir/shape/infer.js';
import { boolTensor, floatTensor, int64Tensor, numel } from '../../src/ir/tensor.js';
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
    const data = inp.values ? Float32Array.from(inp.values) : randomValues(rng, numel(shape), inp);
    if (data.length !== numel(shape)) throw new Error(`makeOpModel: '${inp.name}' has ${data.length} values for shape ${JSON.stringify(shape)}`);
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
    const r = randomValues(rng, numel(dims), { name: 'R', kind: 'const' });
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

/** A float param named 'x' of `shape` (the usual one-input case). */
export const paramX = (shape: number[]): OpInput => ({ name: 'x', shape, kind: 'param' });

/** A 1-D int64 initializer input (shapes, axes, indices). */
export const intInput = (name: string, values: number[]): OpInput => ({ name, shape: [values.length], kind: 'int', values });

/** Plain row-major sums for the hand computations. */
export const sum = (values: ArrayLike<number>) => Array.from(values).reduce((a, b) => a + b, 0);

/** Builds the backward pass of a test model for all its params (for the cases that must be refused). */
export function buildBackwardOf(m: OpModel): void {
  const g = m.model.graph;
  buildBackward(m.model, { loss: g.requireValue(m.loss), wrt: m.params.map((p) => g.requireValue(p)) });
}

/** `n` distinct values 0.1 apart in shuffled order: central differences (eps 1e-2) never swap a maximum. */
export function distinctValues(n: number, seed = 3): number[] {
  const rng = new Rng(seed);
  const values = Array.from({ length: n }, (_, i) => (i - n / 2) * 0.1);
  return Array.from(rng.shuffle(values));
}

/**
 * `n` uniform values in [lo, hi], none closer than `gap` to any kink (gradcheck's eps is 1e-2): for rules whose
 * kinks are not at 0 (Clip bounds, HardSwish at +-3), where makeOpModel's `minAbs` is not enough.
 */
export function awayFromKinks(n: number, range: [number, number], kinks: number[], seed: number, gap = 0.05): number[] {
  const rng = new Rng(seed);
  const out: number[] = [];
  while (out.length < n) {
    const x = rng.uniform(range[0], range[1]);
    if (kinks.every((k) => Math.abs(x - k) >= gap)) out.push(x);
  }
  return out;
}

/**
 * Values for several tensors (`counts` elements each) that are pairwise at least `step` apart, drawn without
 * replacement from a shuffled grid centred on 0: no two inputs of Max/Min/Where can tie or swap order under a
 * perturbation smaller than step / 2.
 */
export function separatedValues(counts: number[], seed: number, step = 0.1): number[][] {
  const rng = new Rng(seed);
  const total = counts.reduce((a, b) => a + b, 0);
  const grid = Array.from({ length: total }, (_, i) => (i - total / 2) * step);
  for (let i = grid.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [grid[i], grid[j]] = [grid[j], grid[i]];
  }
  let at = 0;
  return counts.map((c) => grid.slice(at, (at += c)));
}

/** A float tensor given to runOneOp: the first one is fed as the graph input x, the others are initializers. */
export interface OneOpInput {
  data: number[];
  shape: number[];
}

/** Runs `y = op(inputs...)` alone in onnxruntime (opset `opset`) and returns y's values. */
export async function runOneOp(op: string, inputs: OneOpInput[], attrs: Record<string, AttrValue | undefined>, opset = 17): Promise<Float32Array> {
  const model = newModel({ opset });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const [first, ...rest] = inputs;
  const x = g.addInput('x').setTensorType(DataType.FLOAT, first.shape);
  const others = rest.map((t, i) => g.addInitializer(floatTensor(`c${i}`, Float32Array.from(t.data), t.shape), { exactName: true }));
  g.addOutput(b.op(op, [x, ...others], attrs, { output: 'y' }));
  const session = await createSession(modelToBytes(model), { name: `${op} forward` });
  try {
    const out = await session.run({ x: ortFloat(Float32Array.from(first.data), first.shape) });
    return out.y.data as Float32Array;
  } finally {
    await session.release();
  }
}

// One-input pointwise rules (the slope tables of unary-math, trigonometry and activations), three ways.

const slopeLabel = (u: { op: string; attrs?: Record<string, string | number> }) => `${u.op}${u.attrs ? JSON.stringify(u.attrs) : ''}`;

/** A one-input op and its derivative by hand, checked on random inputs (uniform in `range`, `minAbs` away from 0). */
export interface RandomSlopeCase {
  op: string;
  attrs?: Record<string, string | number>;
  opset?: number;
  range?: [number, number];
  minAbs?: number;
  /** dy/dx at x, by hand. */
  slope: (x: number) => number;
}

/** Per case: dx = dy * f'(x) by hand on random [2, 3] inputs, and central differences on [5] and [2, 1, 3]. */
export function testSlopesOnRandomInputs(cases: RandomSlopeCase[]): void {
  const param = (u: RandomSlopeCase, shape: number[]): OpInput => ({ name: 'x', shape, kind: 'param', range: u.range, minAbs: u.minAbs });
  it.each(cases.map((u) => [slopeLabel(u), u] as const))('%s: dx = dy * f\'(x) by hand', async (_, u) => {
    // y = f(x[2,3]); loss = sum(y * R)  =>  dx = R * f'(x)
    const m = makeOpModel({ op: u.op, inputs: [param(u, [2, 3])], attrs: u.attrs, opset: u.opset });
    const { grads } = await computeGradients(m);
    const x = m.values.x;
    expectClose(grads.x.data, Array.from(x, (v, i) => m.weights[0][i] * u.slope(v)), 1e-4, slopeLabel(u));
  });

  it.each(cases.flatMap((u) => [[slopeLabel(u), u, [5]], [slopeLabel(u), u, [2, 1, 3]]] as const))('%s %j matches central differences', async (_, u, shape) => {
    const m = makeOpModel({ op: u.op, inputs: [param(u, [...shape])], attrs: u.attrs, opset: u.opset, seed: 7 });
    await checkGradients(m, { label: JSON.stringify(shape) });
  });
}

/** A one-input op whose slope jumps (or blows up) at `kinks`, with hand-picked inputs on every piece. */
export interface KinkedSlopeCase {
  op: string;
  /** All FLOAT attributes (wrapped with float() when the model is built, so 2 stays a float). */
  attrs?: Record<string, number>;
  opset?: number;
  range: [number, number];
  /** Where f' jumps: random inputs stay away from these. */
  kinks: number[];
  /** Inputs for the hand-computed case, on every piece of f. */
  hand: number[];
  /** f'(x), by hand. */
  slope: (x: number) => number;
  /** The random inputs of the central-difference check, when they need more than `kinks` (default: awayFromKinks). */
  draw?: (n: number, seed: number) => number[];
}

/** Per case: dx = dy * f'(x) by hand at `hand`, and central differences on [6] and [2, 1, 4] away from the kinks. */
export function testSlopesAwayFromKinks(cases: KinkedSlopeCase[]): void {
  const floatAttrs = (u: KinkedSlopeCase) => (u.attrs ? Object.fromEntries(Object.entries(u.attrs).map(([k, v]) => [k, float(v)])) : undefined);
  it.each(cases.map((u) => [slopeLabel(u), u] as const))('%s: dx = dy * f\'(x) by hand', async (_, u) => {
    const m = makeOpModel({ op: u.op, attrs: floatAttrs(u), opset: u.opset, inputs: [{ name: 'x', shape: [u.hand.length], kind: 'param', values: u.hand }] });
    const { grads } = await computeGradients(m);
    expectClose(grads.x.data, u.hand.map((x, i) => m.weights[0][i] * u.slope(x)), 1e-5, slopeLabel(u));
  });

  it.each(cases.flatMap((u) => [[slopeLabel(u), [6], u], [slopeLabel(u), [2, 1, 4], u]] as const))('%s %j matches central differences', async (_, shape, u) => {
    const draw = u.draw ?? ((n: number, seed: number) => awayFromKinks(n, u.range, u.kinks, seed));
    const values = draw(numel([...shape]), 11);
    const m = makeOpModel({ op: u.op, attrs: floatAttrs(u), opset: u.opset, seed: 5, inputs: [{ name: 'x', shape: [...shape], kind: 'param', values }] });
    await checkGradients(m, { label: JSON.stringify(shape) });
  });
}

/** The inputs of the fixed-point slope checks. */
const FIXED_X = [-1.5, -0.3, 0.4, 2];

/** y = op(X) at FIXED_X; dX checked against slope(x) * R elementwise. */
export async function expectSlopeAtFixedPoints(op: string, slope: (x: number) => number, attrs: Record<string, AttrValue | undefined> = {}, opset = 17): Promise<void> {
  const m = makeOpModel({ op, inputs: [{ name: 'X', kind: 'param', shape: [4], values: FIXED_X }], attrs, opset });
  const R = m.weights[0];
  const { grads } = await computeGradients(m);
  expectClose(grads.X.data, FIXED_X.map((x, i) => slope(x) * R[i]), 1e-5, op);
}

/** A one-input op checked by central differences on inputs uniform in [-3, 3] (or the given values). */
export interface RangeSlopeCase {
  op: string;
  shape: number[];
  attrs?: Record<string, AttrValue | undefined>;
  opset?: number;
  minAbs?: number;
  values?: number[];
}

export async function checkSlopeOnRange({ op, shape, attrs, opset, minAbs, values }: RangeSlopeCase): Promise<void> {
  const m = makeOpModel({ op, inputs: [{ name: 'X', kind: 'param', shape, range: [-3, 3], minAbs, values }], attrs, opset, seed: 4 });
  await checkGradients(m, { label: `${op} ${JSON.stringify(shape)}` });
}
