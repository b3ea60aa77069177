/**
 * Which float initializers of a model are its parameters, and what each parameter does in the graph. Read by the
 * penalties (add-penalty), the step compiler (what it trains, what AdamW decays) and `regraft inspect`.
 *
 * Exporters store constants as initializers next to the weights: PyTorch's dynamo exporter keeps attention's scale
 * (0.5946 = 8^-1/4), GELU's coefficients and the mask fill values (0, -3.4e38, -inf) as float initializers, mostly
 * of rank 0 but sometimes of shape [1] (nn.TransformerEncoder's scale). The rule, which matches PyTorch's own
 * `parameters()` on every fixture of test/fixtures/transformers and test/fixtures/size-one-parameters:
 * a float32 initializer is a parameter unless it
 *   - has rank 0 (a scalar: 0-d nn.Parameters are rare; `--train NAME` takes one in),
 *   - holds inf or NaN (a mask fill; a weight is finite),
 *   - is a BatchNormalization running statistic (the forward pass updates it, not a gradient),
 *   - has one element and is read in no parameter slot, only by arithmetic such as Mul, Div, Pow or Where.
 *     Parameter slots are PRelu's slope, the inputs of MatMul, the weight and bias of Gemm, Conv and
 *     ConvTranspose, a normalization's scale and shift, a recurrent layer's W, R and B, a Gather's table, and an
 *     operand of an Add or Sub whose other operand a MatMul, Gemm or Conv computes (the bias of nn.Linear(F, 1)
 *     on 3-D input). So nn.PReLU()'s one slope and a one-output layer's bias train; the [1] scale does not.
 * Tensors are followed through ops that only move or reshape them (Reshape, Unsqueeze, Transpose, Cast, ...), as
 * exporters insert (the dynamo exporter reshapes PReLU's slope to [1, 1, 1]).
 *
 * Roles (what weight decay leaves out by default, as Hugging Face's Trainer does with its `no_decay` group):
 *   normalization  the scale or shift of LayerNormalization, BatchNormalization, InstanceNormalization,
 *                  GroupNormalization or RMSNormalization
 *   bias           the bias input of Gemm, Conv, ConvTranspose, LSTM, GRU, RNN, and a tensor of rank 0 or 1 added
 *                  to (or subtracted from) an activation (MatMul + Add, as exporters write nn.Linear on 3-D inputs)
 *   weight         everything else: MatMul/Gemm/Conv weights, embedding tables, recurrent W and R, PReLU slopes,
 *                  position embeddings, ViT's class token, an elementwise scale. (A LayerNorm written out as
 *                  primitive ops, as exporters did before opset 17, has its shift taken as a bias and its scale as
 *                  a weight: name it with --penalize globs to leave it out.)
 */
import { DataType } from './dtype.js';
import type { Graph } from './graph.js';
import type { Node } from './node.js';
import { firstNonFiniteFloat32, numel, tensorDims } from './tensor.js';
import type { Use, Value } from './value.js';

export type ParameterRole = 'weight' | 'bias' | 'normalization';

export interface ConstantInitializer {
  value: Value;
  /** Why it is not trained, in words (`rank 0`, `holds -inf`, ...). */
  reason: string;
}

export interface InitializerClasses {
  /** Float initializers that are parameters, in graph order. */
  parameters: Value[];
  /** Float initializers that are constants, in graph order, each with the reason. */
  constants: ConstantInitializer[];
}

/** Ops that pass a tensor on unchanged in value (moved, reshaped, sliced or cast): a parameter's role is read past them. */
const PASS_THROUGH = new Set(['Identity', 'Cast', 'Reshape', 'Unsqueeze', 'Squeeze', 'Flatten', 'Transpose', 'Expand', 'Slice', 'Split']);

const NORMALIZATION_OPS = new Set(['LayerNormalization', 'BatchNormalization', 'InstanceNormalization', 'GroupNormalization', 'RMSNormalization']);

/** Input slots that hold a layer's bias. */
const BIAS_SLOTS: Record<string, readonly number[]> = { Gemm: [2], Conv: [2], ConvTranspose: [2], LSTM: [3], GRU: [3], RNN: [3] };

/** Input slots that hold a learned tensor of any size. */
const PARAMETER_SLOTS: Record<string, readonly number[]> = {
  MatMul: [0, 1],
  Gemm: [0, 1, 2],
  Conv: [1, 2],
  ConvTranspose: [1, 2],
  PRelu: [1],
  Gather: [0],
  LSTM: [1, 2, 3],
  GRU: [1, 2, 3],
  RNN: [1, 2, 3],
};

/** Ops whose output a bias is added to. */
const LINEAR_OPS = new Set(['MatMul', 'Gemm', 'Conv', 'ConvTranspose']);

/** The nodes that read `v`'s values, past pass-through ops; `opaque` when a subgraph reads it (or a path does). */
function readersOf(v: Value): { uses: Use[]; opaque: boolean } {
  const uses: Use[] = [];
  let opaque = false;
  const seen = new Set<Value>();
  const walk = (x: Value): void => {
    if (seen.has(x)) return;
    seen.add(x);
    if (x.implicitUses.size > 0) opaque = true;
    for (const use of x.uses) {
      if (use.node.domain === '' && PASS_THROUGH.has(use.node.opType) && use.index === 0) {
        for (const out of use.node.outputs) if (out) walk(out);
      } else uses.push(use);
    }
  };
  walk(v);
  return { uses, opaque };
}

function isNormalizationSlot({ node, index }: Use): boolean {
  return node.domain === '' && NORMALIZATION_OPS.has(node.opType) && (index === 1 || index === 2);
}

function isBiasSlot({ node, index }: Use): boolean {
  return node.domain === '' && (BIAS_SLOTS[node.opType] ?? []).includes(index);
}

/** The other operand of a binary node. */
function otherOperand(use: Use): Value | undefined {
  return use.node.input(1 - use.index);
}

/** Whether `x` is computed by a MatMul/Gemm/Conv (possibly reshaped on the way). */
function isLinearOutput(x: Value | undefined): boolean {
  let producer: Node | null | undefined = x?.producer;
  for (let hops = 0; producer && hops < 8; hops++) {
    if (producer.domain !== '') return false;
    if (LINEAR_OPS.has(producer.opType)) return true;
    if (!PASS_THROUGH.has(producer.opType)) return false;
    producer = producer.input(0)?.producer;
  }
  return false;
}

function isParameterSlot(use: Use): boolean {
  const { node, index } = use;
  if (node.domain !== '') return false;
  if ((PARAMETER_SLOTS[node.opType] ?? []).includes(index) || isNormalizationSlot(use)) return true;
  return (node.opType === 'Add' || node.opType === 'Sub') && index < 2 && isLinearOutput(otherOperand(use));
}

function runningStatistics(graph: Graph): Set<Value> {
  const stats = new Set<Value>();
  for (const n of graph.nodes) {
    if (n.opType !== 'BatchNormalization' || n.domain !== '') continue;
    for (const slot of [3, 4]) {
      const v = n.input(slot);
      if (v) stats.add(v);
    }
  }
  return stats;
}

/** The first non-finite value of a tensor (all exponent bits set: inf or NaN), or undefined. */
function nonFinite(v: Value): number | undefined {
  return firstNonFiniteFloat32(v.initializer!);
}

/** Why a float initializer is a constant rather than a parameter, or undefined for a parameter. */
function constantReason(v: Value, statistics: ReadonlySet<Value>): string | undefined {
  const dims = tensorDims(v.initializer!);
  if (statistics.has(v)) return 'a BatchNormalization running statistic (updated by the forward pass)';
  if (dims.length === 0) return 'rank 0 (a scalar constant)';
  const bad = nonFinite(v);
  if (bad !== undefined) return `holds ${bad} (a mask fill, not a weight)`;
  if (numel(dims) === 1) {
    const { uses, opaque } = readersOf(v);
    if (opaque || !uses.some(isParameterSlot)) {
      const ops = [...new Set(uses.map((u) => u.node.opType))].join(', ') || 'nothing';
      return `one element read only by ${ops} (a constant factor, not a layer's parameter)`;
    }
  }
  return undefined;
}

/** Splits a graph's float32 initializers into parameters and constants (see the file header for the rule). */
export function classifyInitializers(graph: Graph): InitializerClasses {
  const statistics = runningStatistics(graph);
  const parameters: Value[] = [];
  const constants: ConstantInitializer[] = [];
  for (const v of graph.initializers) {
    if (v.initializer!.dataType !== DataType.FLOAT) continue;
    const reason = constantReason(v, statistics);
    if (reason === undefined) parameters.push(v);
    else constants.push({ value: v, reason });
  }
  return { parameters, constants };
}

/** What a parameter does: a normalization's scale or shift, a bias, or a weight (see the file header). */
export function parameterRole(v: Value): ParameterRole {
  const rank = v.initializer ? tensorDims(v.initializer).length : (v.shape?.length ?? 2);
  const { uses } = readersOf(v);
  const vector = rank <= 1;
  if (uses.some(isNormalizationSlot)) return 'normalization';
  const isAdded = (u: Use) => vector && (u.node.opType === 'Add' || u.node.opType === 'Sub') && u.index < 2 && u.node.domain === '';
  if (uses.some((u) => isBiasSlot(u) || isAdded(u))) return 'bias';
  return 'weight';
}
