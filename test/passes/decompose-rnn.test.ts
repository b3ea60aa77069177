// decompose-rnn: LSTM / GRU / RNN unrolled into primitive ops infer exactly like onnxruntime's own kernels, train
// (gradients checked against central differences), and let a recurrent classifier compile into a training step.
import { Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { inferShapes } from '../../src/ir/shape/infer.js';
import { gradcheck } from '../../src/check/gradcheck.js';
import { differentiableOps } from '../../src/autodiff/registry.js';
import { RegraftError } from '../../src/errors.js';
import { cloneModel, DataType, float, GraphBuilder, int64Tensor, newModel, type Dim, type Model, type Value } from '../../src/ir/index.js';
import { decomposeRecurrent, decomposeRecurrentPass } from '../../src/passes/decompose-rnn.js';
import { verifyEquivalent } from '../../src/check/equivalence.js';
import { compileTrainStep } from '../../src/compile/compile.js';
import { Rng } from '../../src/util/rng.js';
import { lossesOnOneBatch } from '../compile/step-helpers.js';
import { randomWeights } from './models.js';

type Op = 'LSTM' | 'GRU' | 'RNN';
type Direction = 'forward' | 'reverse' | 'bidirectional';
const GATES: Record<Op, number> = { LSTM: 4, GRU: 3, RNN: 1 };

interface RnnCase {
  op: Op;
  direction?: Direction;
  bias?: boolean;
  initial?: boolean;
  linearBeforeReset?: number;
  layout?: number;
  peephole?: boolean;
  clip?: number;
  activations?: string[];
  /** Constant sequence_lens, all equal to this. */
  sequenceLens?: number;
  inputForget?: number;
  /** Sequence length as declared on X (a string makes it symbolic). */
  steps?: number | string;
  /** A layout-0 node with the interface of layout 1: batch-major X, states and outputs through Transposes. */
  batchMajorByTranspose?: boolean;
  opset?: number;
}

const N = 3; // batch
const F = 4; // input size
const H = 5; // hidden size
const T = 4; // sequence length

/**
 * X [T, N, F] (graph input) -> <op>(W, R, B?, sequence_lens?, initial_h?, initial_c?, P?) -> Y, Y_h (, Y_c): all
 * graph outputs. Weights are initializers; initial states are graph inputs (random in verify).
 */
function rnnModel(c: RnnCase, seed = 1): Model {
  const model = newModel({ opset: c.opset ?? 17 });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const rng = new Rng(seed);
  const nd = c.direction === 'bidirectional' ? 2 : 1;
  const k = GATES[c.op];
  const layout = c.layout ?? 0;
  const batchMajor = layout === 1 || c.batchMajorByTranspose === true;
  const steps: Dim = c.steps ?? T;
  const init = (name: string, dims: number[]) => b.floatInit(name, randomWeights(rng, dims.reduce((a, d) => a * d, 1)), dims);
  const viaTranspose = (v: Value, perm: number[]) => (c.batchMajorByTranspose ? b.op('Transpose', [v], { perm }) : v);
  const x = g.addInput('X').setTensorType(DataType.FLOAT, batchMajor ? [N, steps, F] : [steps, N, F]);
  const stateDims = batchMajor ? [N, nd, H] : [nd, N, H];
  const state = (name: string) => viaTranspose(g.addInput(name).setTensorType(DataType.FLOAT, stateDims), [1, 0, 2]);
  const inputs: (Value | null)[] = [viaTranspose(x, [1, 0, 2]), init('W', [nd, k * H, F]), init('R', [nd, k * H, H])];
  inputs.push(c.bias ? init('B', [nd, 2 * k * H]) : null);
  inputs.push(c.sequenceLens !== undefined ? g.addInitializer(int32Lens(c.sequenceLens)).setTensorType(DataType.INT32, [N]) : null);
  inputs.push(c.initial ? state('initial_h') : null);
  if (c.op === 'LSTM') {
    inputs.push(c.initial ? state('initial_c') : null);
    inputs.push(c.peephole ? init('P', [nd, 3 * H]) : null);
  }
  while (inputs[inputs.length - 1] === null) inputs.pop();
  const attrs: Record<string, unknown> = { hidden_size: H, direction: c.direction ?? 'forward' };
  if (c.layout !== undefined) attrs.layout = c.layout;
  if (c.linearBeforeReset !== undefined) attrs.linear_before_reset = c.linearBeforeReset;
  if (c.clip !== undefined) attrs.clip = float(c.clip);
  if (c.activations) attrs.activations = c.activations;
  if (c.inputForget !== undefined) attrs.input_forget = c.inputForget;
  const names = (c.op === 'LSTM' ? ['Y', 'Y_h', 'Y_c'] : ['Y', 'Y_h']).map((n) => (c.batchMajorByTranspose ? `${n}_time_major` : n));
  let outs = b.ops(c.op, inputs, attrs as never, names, { name: c.op.toLowerCase() });
  if (c.batchMajorByTranspose) {
    outs = outs.map((v, i) => b.op('Transpose', [v], { perm: i === 0 ? [2, 0, 1, 3] : [1, 0, 2] }, { output: v.name.replace('_time_major', '') }));
  }
  const yDims = batchMajor ? [N, steps, nd, H] : [steps, nd, N, H];
  outs.forEach((v, i) => {
    v.setTensorType(DataType.FLOAT, i === 0 ? yDims : stateDims);
    g.addOutput(v);
  });
  return model;
}

function int32Lens(len: number) {
  const t = int64Tensor('sequence_lens', Array(N).fill(len), [N]);
  // sequence_lens is int32 in the spec (onnxruntime refuses int64).
  t.dataType = DataType.INT32;
  t.rawData = new Uint8Array(Int32Array.from(Array(N).fill(len)).buffer);
  return t;
}

function decomposed(model: Model): Model {
  const copy = cloneModel(model);
  decomposeRecurrent(copy);
  return copy;
}

async function maxDiff(c: RnnCase): Promise<{ ok: boolean; diff: number; outputs: string[] }> {
  const original = rnnModel(c);
  const report = await verifyEquivalent(original, decomposed(original), { atol: 1e-5, rtol: 1e-5 });
  return { ok: report.ok, diff: Math.max(...report.outputs.map((o) => o.maxAbsDiff)), outputs: report.outputs.map((o) => o.name) };
}

const VARIANTS: { name: string; c: Pick<RnnCase, 'op' | 'linearBeforeReset'> }[] = [
  { name: 'LSTM', c: { op: 'LSTM' } },
  { name: 'GRU linear_before_reset=0', c: { op: 'GRU', linearBeforeReset: 0 } },
  { name: 'GRU linear_before_reset=1', c: { op: 'GRU', linearBeforeReset: 1 } },
  { name: 'RNN', c: { op: 'RNN' } },
];
const TABLE = VARIANTS.flatMap(({ name, c }) =>
  (['forward', 'reverse', 'bidirectional'] as const).flatMap((direction) =>
    [[true, true], [false, false], [true, false], [false, true]].map(([bias, initial]) => ({
      label: `${name} ${direction} bias=${bias} initial=${initial}`,
      c: { ...c, direction, bias, initial },
    })),
  ),
);

describe('decomposeRecurrent infers like onnxruntime (batch 3, input 4, hidden 5, 4 steps)', () => {
  it.each(TABLE)('$label', async ({ c }) => {
    const { ok, diff, outputs } = await maxDiff(c);
    expect(outputs).toEqual(c.op === 'LSTM' ? ['Y', 'Y_h', 'Y_c'] : ['Y', 'Y_h']);
    expect(ok).toBe(true);
    expect(diff).toBeLessThan(1e-5);
  });

  it.each([
    { label: 'LSTM peepholes + clip 0.7, bidirectional', c: { op: 'LSTM', direction: 'bidirectional', bias: true, initial: true, peephole: true, clip: 0.7 } },
    { label: 'RNN Relu activations, bidirectional', c: { op: 'RNN', direction: 'bidirectional', bias: true, initial: true, activations: ['Relu', 'Relu'] } },
    { label: 'GRU explicit activations (Sigmoid, Tanh, Tanh, Sigmoid)', c: { op: 'GRU', direction: 'bidirectional', bias: true, activations: ['Sigmoid', 'Tanh', 'Tanh', 'Sigmoid'] } },
    { label: 'LSTM with constant full-length sequence_lens', c: { op: 'LSTM', bias: true, sequenceLens: T } },
    // Older opsets: Split/Squeeze/Unsqueeze take their sizes and axes as attributes (< 13), Clip its bounds (< 11).
    { label: 'LSTM opset 12, clip 0.7, bidirectional', c: { op: 'LSTM', direction: 'bidirectional', bias: true, initial: true, clip: 0.7, opset: 12 } },
    { label: 'GRU opset 9, clip 0.5, linear_before_reset=1', c: { op: 'GRU', direction: 'bidirectional', bias: true, initial: true, clip: 0.5, linearBeforeReset: 1, opset: 9 } },
    { label: 'LSTM one step', c: { op: 'LSTM', direction: 'bidirectional', bias: true, initial: true, steps: 1 } },
  ] as { label: string; c: RnnCase }[])('$label', async ({ c }) => {
    const { ok, diff } = await maxDiff(c);
    expect(ok).toBe(true);
    expect(diff).toBeLessThan(1e-5);
  });

  // onnxruntime runs only layout 0: the reference for layout 1 is the layout-0 node between Transposes.
  it.each([
    { label: 'LSTM layout=1 (batch-major), bidirectional, peepholes', c: { op: 'LSTM', direction: 'bidirectional', bias: true, initial: true, peephole: true, layout: 1 } },
    { label: 'GRU layout=1, clip 0.5, reverse', c: { op: 'GRU', direction: 'reverse', bias: true, initial: true, layout: 1, clip: 0.5, linearBeforeReset: 1 } },
    { label: 'RNN layout=1, forward, no initial state', c: { op: 'RNN', bias: true, layout: 1 } },
  ] as { label: string; c: RnnCase }[])('$label', async ({ c }) => {
    const reference = rnnModel({ ...c, layout: 0, batchMajorByTranspose: true });
    const report = await verifyEquivalent(reference, decomposed(rnnModel(c)), { atol: 1e-5, rtol: 1e-5 });
    expect(report.outputs.map((o) => o.name)).toEqual(c.op === 'LSTM' ? ['Y', 'Y_h', 'Y_c'] : ['Y', 'Y_h']);
    expect(report.ok).toBe(true);
    expect(Math.max(...report.outputs.map((o) => o.maxAbsDiff))).toBeLessThan(1e-5);
  });

  it('leaves only differentiable ops, keeps output names, types and readers, and reports the unrolled node', () => {
    const model = rnnModel({ op: 'LSTM', direction: 'bidirectional', bias: true, initial: true, peephole: true, clip: 1 });
    const g = model.graph;
    // Y_h also feeds a node: it must keep that reader as well as its graph output slot.
    const reader = new GraphBuilder(g).op('Relu', [g.requireValue('Y_h')], {}, { name: 'reader', output: 'relu_h' });
    g.addOutput(reader);
    inferShapes(g); // relu_h's type is inferred (through the LSTM rule), not declared: before and after must agree
    const types = g.outputs.map((v) => [v.elemType, v.shape]);
    const { decomposed: report } = decomposeRecurrent(model);
    expect(report).toEqual([{ node: 'lstm', op: 'LSTM', steps: T }]);
    expect(g.outputs.map((v) => v.name)).toEqual(['Y', 'Y_h', 'Y_c', 'relu_h']);
    // The three recurrent outputs keep their declared types; the reader's output, undeclared, gets Y_h's from shape inference.
    expect(g.outputs.slice(0, 3).map((v) => [v.elemType, v.shape])).toEqual(types.slice(0, 3));
    expect([g.outputs[3]!.elemType, g.outputs[3]!.shape]).toEqual(types[1]);
    expect(g.nodes.find((n) => n.name === 'reader')!.input(0)).toBe(g.requireValue('Y_h'));
    const allowed = new Set(differentiableOps());
    expect(g.nodes.map((n) => n.opType).filter((op) => !allowed.has(op))).toEqual([]);
    expect(g.nodes.some((n) => n.name.startsWith('lstm/rev/t0/'))).toBe(true);
    expect(['W', 'R', 'B', 'P'].every((name) => g.requireValue(name).initializer !== undefined)).toBe(true);
    // Nothing left to do the second time.
    expect(decomposeRecurrent(model).decomposed).toEqual([]);
  });

  it('as a pass: modified the first time, not the second', () => {
    const model = rnnModel({ op: 'RNN', bias: true });
    const first = decomposeRecurrentPass.run(model, {});
    expect([first.modified, first.decomposed]).toEqual([true, [{ node: 'rnn', op: 'RNN', steps: T }]]);
    expect(decomposeRecurrentPass.run(model, {}).modified).toBe(false);
  });

  it('decomposes only the ops asked for', () => {
    const model = rnnModel({ op: 'GRU', bias: true });
    expect(decomposeRecurrent(model, { ops: ['LSTM'] }).decomposed).toEqual([]);
    expect(model.graph.nodes.map((n) => n.opType)).toEqual(['GRU']);
  });
});

describe('gradients through the decomposed cells match central differences', () => {
  /** Weights as initializers (the checked parameters), X fed; loss = sum(Y * R1) + sum(last state * R2). */
  function lossModel(c: RnnCase): { model: Model; feeds: Record<string, Tensor> } {
    const model = decomposed(rnnModel({ ...c, initial: false }, 3));
    const g = model.graph;
    const b = new GraphBuilder(g);
    const rng = new Rng(4);
    const nd = c.direction === 'bidirectional' ? 2 : 1;
    const y = g.requireValue('Y');
    const last = g.requireValue(c.op === 'LSTM' ? 'Y_c' : 'Y_h');
    for (const v of [...g.outputs]) g.removeOutput(v);
    const r1 = b.floatInit('R1', randomWeights(rng, T * nd * N * H, 1), [T, nd, N, H]);
    const r2 = b.floatInit('R2', randomWeights(rng, nd * N * H, 1), [nd, N, H]);
    const loss = b.add(b.reduceSum(b.mul(y, r1), undefined, false), b.reduceSum(b.mul(last, r2), undefined, false));
    loss.rename('loss');
    loss.setTensorType(DataType.FLOAT, []);
    g.addOutput(loss);
    g.cleanup();
    const feeds = { X: new Tensor('float32', Float32Array.from(randomWeights(rng, T * N * F, 1)), [T, N, F]) };
    return { model, feeds };
  }

  it.each([
    { label: 'LSTM bidirectional (loss reads Y and Y_c)', c: { op: 'LSTM', direction: 'bidirectional', bias: true } },
    { label: 'GRU linear_before_reset=1 forward', c: { op: 'GRU', bias: true, linearBeforeReset: 1 } },
    { label: 'GRU linear_before_reset=0 reverse', c: { op: 'GRU', direction: 'reverse', bias: true, linearBeforeReset: 0 } },
  ] as { label: string; c: RnnCase }[])('$label: W, R, B', async ({ c }) => {
    const { model, feeds } = lossModel(c);
    const results = await gradcheck({ model, loss: 'loss', feeds, params: ['W', 'R', 'B'], eps: 1e-2, samplesPerParam: 12 });
    expect(results.map((r) => r.param)).toEqual(['W', 'R', 'B']);
    for (const r of results) {
      expect(r.checked).toBeGreaterThan(0);
      expect(r.maxRelError).toBeLessThan(1e-2);
    }
  });
});

describe('decomposeRecurrent refuses what it cannot unroll, in one line naming the node, model unchanged', () => {
  const refusal = (c: RnnCase, why: RegExp) => {
    const model = rnnModel(c);
    let error: unknown;
    try {
      decomposeRecurrent(model);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RegraftError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toContain(`${c.op} node '${c.op.toLowerCase()}'`);
    expect(message).toMatch(why);
    expect(model.graph.nodes.map((n) => n.opType)).toEqual([c.op]);
  };

  it('a dynamic sequence length', () => refusal({ op: 'LSTM', steps: 'seq' }, /sequence length \(dim 0 of input 'X', seq\) is dynamic.*compile for one length with --dim seq=LENGTH$/));
  it('an unsupported activation', () => refusal({ op: 'GRU', activations: ['HardSigmoid', 'Tanh'] }, /activation 'HardSigmoid' cannot be decomposed/));
  it('input_forget = 1', () => refusal({ op: 'LSTM', inputForget: 1 }, /input_forget = 1/));
  it('clip on a float64 input', () => {
    const model = rnnModel({ op: 'RNN', clip: 1 });
    model.graph.requireValue('X').setTensorType(DataType.DOUBLE, [T, N, F]);
    expect(() => decomposeRecurrent(model)).toThrow(/^RNN node 'rnn': clip is decomposed for float32 inputs only, X 'X' is DOUBLE/);
  });
  it('sequence_lens shorter than the sequence', () => refusal({ op: 'RNN', sequenceLens: T - 1 }, /sequence_lens .* padded sequences cannot be unrolled/));
});

describe('compileTrainStep decomposes recurrent ops', () => {
  /** x [N, T=5, F=3] -> Transpose -> LSTM(hidden 4) -> Y_h [1, N, 4] -> Squeeze -> Gemm -> logits [N, 3]. */
  function lstmClassifier(): Model {
    const model = newModel({ opset: 17 });
    const g = model.graph;
    const b = new GraphBuilder(g);
    const rng = new Rng(5);
    const init = (name: string, dims: number[]) => b.floatInit(name, randomWeights(rng, dims.reduce((a, d) => a * d, 1)), dims);
    const x = g.addInput('input').setTensorType(DataType.FLOAT, ['batch', 5, 3]);
    // As PyTorch exports batch_first=True: the time-major X has no declared shape, shape inference finds T.
    const xt = b.op('Transpose', [x], { perm: [1, 0, 2] }, { name: '/lstm/Transpose' });
    const [, yh] = b.ops('LSTM', [xt, init('lstm.W', [1, 16, 3]), init('lstm.R', [1, 16, 4]), init('lstm.B', [1, 32])], { hidden_size: 4 }, 2, { name: '/lstm/LSTM' });
    const h = b.op('Squeeze', [yh, b.ints([0])], {}, { name: '/Squeeze' });
    const logits = b.op('Gemm', [h, init('fc.weight', [3, 4]), init('fc.bias', [3])], { transB: 1 }, { name: '/fc/Gemm', output: 'logits' });
    logits.setTensorType(DataType.FLOAT, ['batch', 3]);
    g.addOutput(logits);
    return model;
  }

  it('an LSTM classifier compiles (cross-entropy, adam) and its loss falls on one fixed batch', async () => {
    const step = compileTrainStep(lstmClassifier(), { loss: 'cross-entropy', optimizer: 'adam' });
    expect(step.decomposed).toEqual([{ node: '/lstm/LSTM', op: 'LSTM', steps: 5 }]);
    expect(step.params).toEqual(['lstm.W', 'lstm.R', 'lstm.B', 'fc.weight', 'fc.bias']);

    const rng = new Rng(6);
    const n = 8;
    const losses = await lossesOnOneBatch(
      step,
      {
        [step.dataInputs[0]]: new Tensor('float32', Float32Array.from(randomWeights(rng, n * 5 * 3, 1)), [n, 5, 3]),
        [step.labels]: new Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 3)), [n]),
      },
      0.05,
      20,
    );
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[19]).toBeLessThan(losses[0] * 0.7);
  });

  it('a model without recurrent ops compiles as before (nothing decomposed)', () => {
    const model = newModel({ opset: 17 });
    const g = model.graph;
    const b = new GraphBuilder(g);
    const x = g.addInput('input').setTensorType(DataType.FLOAT, ['batch', 2]);
    const logits = b.op('Gemm', [x, b.floatInit('w', [1, 2, 3, 4, 5, 6], [3, 2])], { transB: 1 }, { output: 'logits' });
    logits.setTensorType(DataType.FLOAT, ['batch', 3]);
    g.addOutput(logits);
    expect(compileTrainStep(model, { loss: 'cross-entropy', optimizer: 'sgd' }).decomposed).toEqual([]);
  });
});
