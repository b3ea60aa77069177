/**
 * decompose-rnn: replaces each LSTM, GRU and RNN node (ai.onnx) by its computation unrolled over time in primitive
 * ops that have gradient rules, so models with recurrent layers compile into a training step.
 *
 *   Before:  X [T, N, F] -> LSTM(W, R, B, -, h0, c0) -> Y [T, D, N, H], Y_h [D, N, H], Y_c [D, N, H]
 *   After:   XW = X @ W_d^T + (Wb_d + Rb_d) for all steps at once, split into T slices xw_t [N, kH];
 *            per direction d and step t (reverse: t = T-1 .. 0): (H, C) = cell(xw_t, H, C)   (decompose-rnn-cells.ts)
 *            Y = Concat_t(Concat_d(H_t,d)), Y_h / Y_c = Concat_d(last state); the outputs keep their names.
 *
 * When it applies: the sequence length (X's dim 0, or dim 1 with layout = 1) must be static (declared or inferred);
 * a symbolic one (an export with a dynamic sequence axis) is refused naming the input dims it comes from, which
 * fix-input-dims fixes (`compile --dim sequence=12`; `train` fixes them to the data's: recurrenceLengthDims).
 * sequence_lens, when given, must be a constant equal to it everywhere (no padding). W, R, B, P are read through
 * Split/Squeeze/Transpose, so trained values stay in the original initializers, under their original names.
 * Everything is checked before anything changes: a refusal leaves the model as it was.
 */
import { RegraftError } from '../errors.js';
import { constantInts } from '../ir/constant.js';
import { DataType, dtypeName, GraphBuilder, type Dim, type Graph, type Model, type Node, type Value } from '../ir/index.js';
import { cloneModel } from '../ir/clone.js';
import { inferShapes } from '../ir/shape/infer.js';
import { symbolsOf } from '../ir/shape/symbolic-dims.js';
import type { Pass, PassResult } from './pass.js';
import { replaceValue } from './rewire.js';
import { CellEmitter, gruStep, lstmStep, parseActivation, rnnStep, type Activation } from './decompose-rnn-cells.js';

export const RECURRENT_OPS = ['LSTM', 'GRU', 'RNN'] as const;
type RecurrentOp = (typeof RECURRENT_OPS)[number];

export interface DecomposeRecurrentOptions {
  /** Which recurrent op types to decompose (default all three). */
  ops?: string[];
}

export interface DecomposedNode {
  node: string;
  op: string;
  /** Time steps unrolled (per direction). */
  steps: number;
}

const GATES: Record<RecurrentOp, number> = { LSTM: 4, GRU: 3, RNN: 1 };
const DEFAULT_ACTIVATIONS: Record<RecurrentOp, Activation[]> = { LSTM: ['Sigmoid', 'Tanh', 'Tanh'], GRU: ['Sigmoid', 'Tanh'], RNN: ['Tanh'] };

interface Plan {
  node: Node;
  op: RecurrentOp;
  steps: number;
  hidden: number;
  batch: Dim;
  layout: number;
  directions: ('fwd' | 'rev')[];
  /** Activations per direction. */
  activations: Activation[][];
  clip?: number;
}

export function decomposeRecurrent(model: Model, opts: DecomposeRecurrentOptions = {}): { decomposed: DecomposedNode[] } {
  const wanted = opts.ops ?? [...RECURRENT_OPS];
  const unknown = wanted.find((op) => !(RECURRENT_OPS as readonly string[]).includes(op));
  if (unknown) throw new RegraftError(`decompose-rnn: '${unknown}' is not a recurrent op (supported: ${RECURRENT_OPS.join(', ')})`);
  const graph = model.graph;
  const targets = graph.nodes.filter((n) => wanted.includes(n.opType) && (n.domain === '' || n.domain === 'ai.onnx'));
  if (targets.length === 0) return { decomposed: [] };
  // Always inferred: exporters' value_info for the layers' inputs can be stale (the dynamo exporter's [0, 0, 0]).
  inferShapes(graph);
  const dataDims = dataInputDims(graph);
  const plans = targets.map((n) => planFor(n, dataDims));

  const opset = graph.opset('') ?? 0;
  const decomposed = plans.map((plan) => {
    unroll(graph, opset, plan);
    return { node: plan.node.name, op: plan.op, steps: plan.steps };
  });
  graph.cleanup();
  graph.toposort();
  return { decomposed };
}

export const decomposeRecurrentPass: Pass<DecomposeRecurrentOptions, PassResult & { decomposed: DecomposedNode[] }> = {
  name: 'decompose-rnn',
  run(model, options) {
    const { decomposed } = decomposeRecurrent(model, options);
    return { model, modified: decomposed.length > 0, decomposed };
  },
};

function sequenceDim(node: Node): Dim | undefined {
  const layout = node.attributes.has('layout') ? node.attrs.int('layout') : 0;
  return node.input(0)?.shape?.[layout === 1 ? 1 : 0];
}

function sequenceLength(node: Node): number | undefined {
  const d = sequenceDim(node);
  return typeof d === 'number' && d > 0 ? d : undefined;
}

/** The symbolic dims the data inputs declare. */
function dataInputDims(graph: Graph): Set<string> {
  return new Set(graph.inputs.filter((v) => !v.initializer).flatMap((v) => (v.shape ?? []).flatMap((d) => symbolsOf(d))));
}

/**
 * The symbolic dims of the data inputs that the recurrent layers' sequence lengths are made of (`sequence` for an
 * export with a dynamic sequence axis): compiling needs them fixed (fix-input-dims). Empty when none is needed.
 */
export function recurrenceLengthDims(model: Model): string[] {
  const graph = model.graph;
  if (!graph.nodes.some((n) => (RECURRENT_OPS as readonly string[]).includes(n.opType))) return [];
  const copy = cloneModel(model);
  inferShapes(copy.graph);
  const declared = dataInputDims(copy.graph);
  const needed = copy.graph.nodes
    .filter((n) => (RECURRENT_OPS as readonly string[]).includes(n.opType) && sequenceLength(n) === undefined)
    .flatMap((n) => symbolsOf(sequenceDim(n) ?? null))
    .filter((s) => declared.has(s));
  return [...new Set(needed)];
}

/** Checks everything the unrolled form depends on; refusals are one line naming the node. */
function planFor(node: Node, dataDims: ReadonlySet<string>): Plan {
  const op = node.opType as RecurrentOp;
  const where = node.describe();
  const layout = node.attrs.int('layout', 0);
  if (layout !== 0 && layout !== 1) throw new RegraftError(`${where}: layout ${layout} is not 0 or 1`);
  const x = node.input(0);
  if (!x || !node.input(1) || !node.input(2)) throw new RegraftError(`${where}: inputs X, W and R are required`);
  const steps = sequenceLength(node);
  if (steps === undefined) {
    const symbols = symbolsOf(sequenceDim(node) ?? null);
    const what = `${where}: the sequence length (dim ${layout} of input '${x.name}'`;
    if (symbols.length > 0 && symbols.every((s) => dataDims.has(s))) {
      const flags = symbols.map((s) => `--dim ${s}=LENGTH`).join(' ');
      throw new RegraftError(`${what}, ${sequenceDim(node)}) is dynamic, and the recurrence is unrolled over a fixed number of steps; compile for one length with ${flags} (regraft train takes it from the data)`);
    }
    throw new RegraftError(`${what}) is not static, so the recurrence cannot be unrolled; declare the input's shape with a fixed sequence length`);
  }
  const directionName = node.attrs.string('direction', 'forward');
  const directions: Plan['directions'] | undefined = { forward: ['fwd' as const], reverse: ['rev' as const], bidirectional: ['fwd' as const, 'rev' as const] }[directionName];
  if (!directions) throw new RegraftError(`${where}: direction '${directionName}' is not forward, reverse or bidirectional`);
  if (op === 'LSTM' && node.attrs.int('input_forget', 0) !== 0) {
    throw new RegraftError(`${where}: input_forget = 1 (coupled input and forget gates) cannot be decomposed; export the LSTM without it`);
  }
  const wDim = node.input(1)!.shape?.[1];
  const hidden = node.attrs.has('hidden_size') ? node.attrs.int('hidden_size') : typeof wDim === 'number' ? wDim / GATES[op] : undefined;
  if (!hidden || !Number.isInteger(hidden)) throw new RegraftError(`${where}: hidden_size is neither an attribute nor known from W's shape; set hidden_size`);
  checkSequenceLens(node, steps);
  const clip = node.attributes.has('clip') ? node.attrs.float('clip') : undefined;
  if (clip !== undefined && x.elemType !== undefined && x.elemType !== DataType.FLOAT) {
    throw new RegraftError(`${node.describe()}: clip is decomposed for float32 inputs only, X '${x.name}' is ${dtypeName(x.elemType)}; cast the model to float32`);
  }
  return {
    node,
    op,
    steps,
    hidden,
    batch: x.shape?.[layout === 1 ? 0 : 1] ?? null,
    layout,
    directions,
    activations: activationsPerDirection(node, op, directions.length),
    clip,
  };
}

function checkSequenceLens(node: Node, steps: number): void {
  const lens = node.input(4);
  if (!lens) return;
  const values = constantInts(lens);
  if (!values || values.some((v) => v !== steps)) {
    throw new RegraftError(`${node.describe()}: sequence_lens '${lens.name}' is not a constant equal to the sequence length ${steps} for every sequence; padded sequences cannot be unrolled, drop sequence_lens or pad to full length`);
  }
}

function activationsPerDirection(node: Node, op: RecurrentOp, directions: number): Activation[][] {
  const k = DEFAULT_ACTIVATIONS[op].length;
  const attr = node.attributes.get('activations');
  if (!attr) return Array.from({ length: directions }, () => DEFAULT_ACTIVATIONS[op]);
  const names = attr.strings.map((s) => new TextDecoder().decode(s));
  if (names.length !== k * directions) {
    throw new RegraftError(`${node.describe()}: 'activations' lists ${names.length} functions; ${op} with ${directions} direction(s) needs ${k * directions}`);
  }
  const parsed = names.map((n) => parseActivation(node, n));
  return Array.from({ length: directions }, (_, d) => parsed.slice(d * k, d * k + k));
}

function unroll(graph: Graph, opset: number, plan: Plan): void {
  const { node, op, steps, hidden } = plan;
  const b = new GraphBuilder(graph);
  b.insertBefore = node;
  const e = new CellEmitter(b, opset, `${node.name || graph.uniqueNodeName(op)}/`, plan.clip);
  const nd = plan.directions.length;
  const input = (i: number): Value | null => node.input(i) ?? null;

  // Batch-major layout (layout = 1) is transposed to the spec's time-major form on the way in and back on the way out.
  const x = plan.layout === 1 ? e.transpose(input(0)!, [1, 0, 2], 'X_time_major') : input(0)!;
  const stateIn = (i: number, label: string) => {
    const v = input(i);
    if (!v) return null;
    return e.unstack(plan.layout === 1 ? e.transpose(v, [1, 0, 2], `${label}_dir_major`) : v, nd, label);
  };
  const w = e.unstack(input(1)!, nd, 'W');
  const r = e.unstack(input(2)!, nd, 'R');
  const bias = input(3) ? e.unstack(input(3)!, nd, 'B') : null;
  const h0 = stateIn(5, 'initial_h');
  const c0 = op === 'LSTM' ? stateIn(6, 'initial_c') : null;
  const peep = op === 'LSTM' && input(7) ? e.unstack(input(7)!, nd, 'P') : null;
  const lbr = op === 'GRU' && node.attrs.int('linear_before_reset', 0) !== 0;

  const hs: Value[][] = [];
  const lastH: Value[] = [];
  const lastC: Value[] = [];
  plan.directions.forEach((dir, d) => {
    e.scope = `${dir}/`;
    const { xw, rbh } = inputProjection(e, op, x, w[d], bias?.[d], hidden, lbr);
    const xs = e.unstack(xw, steps, 'xw');
    let h = h0 ? h0[d] : null;
    let c = c0 ? c0[d] : null;
    const out: Value[] = [];
    const acts = plan.activations[d];
    const rd = r[d];
    const lstm = op === 'LSTM' ? lstmWeights(e, rd, hidden, peep?.[d], acts) : undefined;
    const gru = op === 'GRU' ? gruWeights(e, rd, hidden) : undefined;
    const rnnRT = op === 'RNN' ? e.transpose(rd, [1, 0], 'R_T') : undefined;
    for (let i = 0; i < steps; i++) {
      const t = dir === 'fwd' ? i : steps - 1 - i;
      e.scope = `${dir}/t${t}/`;
      if (lstm) ({ h, c } = lstmStep(e, lstm, xs[t], h, c));
      else if (gru) h = gruStep(e, { ...gru, rbh, linearBeforeReset: lbr, acts: [acts[0], acts[1]] }, xs[t], h);
      else h = rnnStep(e, { rT: rnnRT!, act: acts[0] }, xs[t], h);
      out[t] = h!;
    }
    hs.push(out);
    lastH.push(h!);
    if (c) lastC.push(c);
  });

  writeOutputs(e, plan, hs, lastH, lastC);
}

/** Y, Y_h, Y_c from the per-step states, each replacing the original output under its name (only those read). */
function writeOutputs(e: CellEmitter, plan: Plan, hs: Value[][], lastH: Value[], lastC: Value[]): void {
  const { node, steps, hidden, batch, layout } = plan;
  const nd = plan.directions.length;
  e.scope = '';
  const used = (i: number): Value | null => {
    const v = node.outputs[i];
    return v?.isRead ? v : null;
  };
  const stateOut = (states: Value[], label: string): Value => {
    const stacked = e.concat(states.map((s, d) => e.unsqueeze(s, [0], `${label}_d${d}`)), 0, label);
    return layout === 1 ? e.transpose(stacked, [1, 0, 2], `${label}_batch_major`) : stacked;
  };
  const elemType = node.input(0)!.elemType;
  const finish = (old: Value, made: Value, shape: Dim[]) => {
    if (old.type) made.type = old.type;
    else if (elemType !== undefined) made.setTensorType(elemType, shape);
    replaceValue(old, made);
  };
  const stateShape = layout === 1 ? [batch, nd, hidden] : [nd, batch, hidden];
  const y = used(0);
  if (y) {
    const perStep = Array.from({ length: steps }, (_, t) =>
      e.concat(hs.map((dirOut, d) => e.unsqueeze(dirOut[t], [0, 1], `Y_t${t}_d${d}`)), 1, `Y_t${t}`),
    );
    const stacked = e.concat(perStep, 0, 'Y_stacked');
    const made = layout === 1 ? e.transpose(stacked, [2, 0, 1, 3], 'Y_batch_major') : stacked;
    finish(y, made, layout === 1 ? [batch, steps, nd, hidden] : [steps, nd, batch, hidden]);
  }
  const yh = used(1);
  if (yh) finish(yh, stateOut(lastH, 'Y_h'), stateShape);
  const yc = used(2);
  if (yc) finish(yc, stateOut(lastC, 'Y_c'), stateShape);
}

/**
 * X W_d^T + biases for every step at once, [T, N, k hidden]. The biases that sit outside the activations' other terms
 * are added here once instead of at every step: Wb + Rb, except GRU's Rb_h under linear_before_reset = 1, which
 * is multiplied by r and is returned apart.
 */
function inputProjection(e: CellEmitter, op: RecurrentOp, x: Value, w: Value, bias: Value | undefined, hidden: number, lbr: boolean): { xw: Value; rbh?: Value } {
  const xw = e.matmul(x, e.transpose(w, [1, 0], 'W_T'), 'XW');
  if (!bias) return { xw };
  if (op !== 'GRU') {
    const hk = hidden * GATES[op];
    const [wb, rb] = e.split(bias, 0, [hk, hk], ['Wb', 'Rb']);
    return { xw: e.add(xw, e.add(wb, rb, 'b'), 'XW_b') };
  }
  const [wbzr, wbh, rbzr, rbh] = e.split(bias, 0, [2 * hidden, hidden, 2 * hidden, hidden], ['Wb_zr', 'Wb_h', 'Rb_zr', 'Rb_h']);
  const hBias = lbr ? wbh : e.add(wbh, rbh, 'b_h');
  return { xw: e.add(xw, e.concat([e.add(wbzr, rbzr, 'b_zr'), hBias], 0, 'b'), 'XW_b'), rbh: lbr ? rbh : undefined };
}

function lstmWeights(e: CellEmitter, rd: Value, hidden: number, p: Value | undefined, acts: Activation[]) {
  const peepParts = p ? e.split(p, 0, [hidden, hidden, hidden], ['P_i', 'P_o', 'P_f']) : undefined;
  return {
    rT: e.transpose(rd, [1, 0], 'R_T'),
    hidden,
    peep: peepParts ? { i: peepParts[0], o: peepParts[1], f: peepParts[2] } : undefined,
    acts: [acts[0], acts[1], acts[2]] as [Activation, Activation, Activation],
  };
}

function gruWeights(e: CellEmitter, rd: Value, hidden: number) {
  const [rzr, rh] = e.split(rd, 0, [2 * hidden, hidden], ['R_zr', 'R_h']);
  return { rzrT: e.transpose(rzr, [1, 0], 'R_zr_T'), rhT: e.transpose(rh, [1, 0], 'R_h_T'), hidden };
}
