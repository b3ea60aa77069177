import { OPSET_UPGRADE_HINT, RegraftError } from '../errors.js';
import { GraphBuilder } from '../ir/builder.js';
import { DataType } from '../ir/dtype.js';
import type { Model } from '../ir/model.js';
import { floatTensor } from '../ir/tensor.js';
import type { Dim, Value } from '../ir/value.js';
import { LABELS_NAME, LOSS_NAME } from '../training-interface.js';

export const LOSS_KINDS = ['cross-entropy', 'causal-lm', 'mse', 'mse-half', 'bce-logits', 'l1'] as const;
export type LossKind = (typeof LOSS_KINDS)[number];

/** The losses that read class labels: cross-entropy and its next-token form. */
export type ClassificationLoss = 'cross-entropy' | 'causal-lm';

/** The losses that read float targets (every one but the two that read class labels). */
export type RegressionLoss = Exclude<LossKind, ClassificationLoss>;

export const isRegressionLoss = (kind: LossKind): kind is RegressionLoss => kind !== 'cross-entropy' && kind !== 'causal-lm';

/** PyTorch's and Hugging Face's label for a position that does not count (padding, a prompt). */
export const DEFAULT_IGNORE_INDEX = -100;

/**
 * Where the logits hold the classes: axis 1 ([N, C] and [N, C, d1, ...], PyTorch's CrossEntropyLoss and ONNX's
 * SoftmaxCrossEntropyLoss) or the last axis ([N, T, V], Hugging Face's token-level and LM heads).
 */
export const CLASS_AXES = [1, -1] as const;
export type ClassAxis = (typeof CLASS_AXES)[number];

export interface LossSpec {
  kind: LossKind;
  /** The model output the loss reads (default: the first graph output). */
  output?: string;
  /** Name of the labels input (default `labels`). */
  labels?: string;
  /** Name of the loss value (default `loss`). */
  name?: string;
  /** cross-entropy on logits of rank 3 or more: which axis holds the classes (see resolveClassAxis). */
  classAxis?: ClassAxis;
  /** cross-entropy and causal-lm: the label that does not count (default -100); the mean is over the others. */
  ignoreIndex?: number;
  /**
   * cross-entropy and causal-lm in ops a GPU provider has kernels for (meanCrossEntropy) instead of onnxruntime's
   * fused SoftmaxCrossEntropyLoss, which its CUDA provider has none for but which its CPU provider runs fastest
   * (for a 50,257-token vocabulary, batch 4 x 128: 340 against 661 ms per step and 1.0 against 1.6 GiB peak).
   * Default false: the fused op.
   */
  gpuPlaceable?: boolean;
}

export interface AttachedLoss {
  loss: Value;
  labels: Value;
  prediction: Value;
}

/**
 * Adds a loss on a model output, reading a new `labels` graph input. All losses reduce to a mean:
 * - cross-entropy: mean softmax cross-entropy of logits against int64 class labels (SoftmaxCrossEntropyLoss,
 *   opset 12+; with gpuPlaceable the same math in other ops, see meanCrossEntropy), PyTorch's
 *   `nn.CrossEntropyLoss(ignore_index=-100)`: logits [N, C] with labels [N], [N, C, d1, ...] with labels
 *   [N, d1, ...] (classAxis 1), or [N, T, V] with labels [N, T] (classAxis -1, transposed to [N, V, T] first);
 *   positions labelled ignoreIndex do not count, the mean is over the others;
 * - causal-lm: the next-token loss of logits [N, T, V] against labels [N, T] (Hugging Face's LM heads with
 *   `labels=input_ids`): position t's logits against label t + 1. The shift moves the labels, not the logits: labels
 *   [:, 1:] padded at the end with ignoreIndex, so the last position does not count and the mean is over the
 *   shifted pairs whose label is not ignoreIndex, as `cross_entropy(logits[:, :-1], labels[:, 1:])`;
 * - mse: mean((y - t)^2), PyTorch's `nn.MSELoss()`; mse-half: the article's (1/2) mean((y - t)^2);
 * - bce-logits: mean(softplus(y) - y t), PyTorch's `nn.BCEWithLogitsLoss()` (stable for large |y|);
 * - l1: mean(|y - t|), PyTorch's `nn.L1Loss()`.
 * Targets of the regression losses have the output's shape and are float.
 */
export function attachLoss(model: Model, spec: LossSpec): AttachedLoss {
  const graph = model.graph;
  const prediction = spec.output ? graph.requireValue(spec.output, 'model output') : graph.outputs[0];
  if (!prediction) throw new RegraftError(`model has no outputs to attach the ${spec.kind} loss to`);
  const labelsName = spec.labels ?? LABELS_NAME;
  if (graph.value(labelsName)) throw new RegraftError(`the model already has a value named '${labelsName}'; choose another labels name`);
  const b = new GraphBuilder(graph);
  b.namePrefix = 'loss/';
  const lossName = spec.name ?? LOSS_NAME;
  const opset = graph.opset('') ?? 0;
  const batch = prediction.shape?.[0] ?? 'N';

  if (spec.kind === 'cross-entropy' || spec.kind === 'causal-lm') {
    if (opset < 12) throw new RegraftError(`${spec.kind} needs opset 12 or later (SoftmaxCrossEntropyLoss); the model imports opset ${opset}; ${OPSET_UPGRADE_HINT}`);
    const ignoreIndex = spec.ignoreIndex ?? DEFAULT_IGNORE_INDEX;
    if (!Number.isInteger(ignoreIndex)) throw new RegraftError(`the ignore index ${ignoreIndex} must be a whole number (PyTorch's default is ${DEFAULT_IGNORE_INDEX})`);
    const shape = prediction.shape;
    const rank = shape?.length;
    if (spec.kind === 'causal-lm') {
      if (rank !== 3) throw new RegraftError(`causal-lm reads logits [N, T, V], but output '${prediction.name}' has ${rank === undefined ? 'an unknown rank' : `rank ${rank}`}; pick the LM head's output with --target`);
      if (spec.classAxis === 1) throw new RegraftError(`causal-lm reads the classes on the last axis of [N, T, V] (Hugging Face's LM heads); --class-axis 1 does not apply, drop it`);
    } else if (rank !== undefined && rank < 2) {
      throw new RegraftError(`cross-entropy reads logits [N, C], but output '${prediction.name}' has rank ${rank}`);
    }
    // Without a class axis, ONNX's SoftmaxCrossEntropyLoss and PyTorch's CrossEntropyLoss convention: axis 1. The
    // trainer never relies on it: it reads the axis from the labels' shape (resolveClassAxis) and passes it.
    const axis = spec.kind === 'causal-lm' ? -1 : rank === undefined || rank === 2 ? 1 : (spec.classAxis ?? 1);
    if (axis === -1 && rank === undefined) throw new RegraftError(`output '${prediction.name}' has no declared shape, so its last axis is unknown; declare it or use --class-axis 1`);
    let scores = prediction;
    let labels: Value;
    if (axis === 1) {
      labels = graph.addInput(labelsName).setTensorType(DataType.INT64, [batch, ...(shape?.slice(2) ?? [])]);
    } else {
      // SoftmaxCrossEntropyLoss reads the classes on axis 1: move the last axis there.
      labels = graph.addInput(labelsName).setTensorType(DataType.INT64, shape!.slice(0, -1));
      scores = b.op('Transpose', [prediction], { perm: [0, rank! - 1, ...Array.from({ length: rank! - 2 }, (_, i) => i + 1)] });
    }
    let counted = labels;
    if (spec.kind === 'causal-lm') {
      // Label t + 1 moves to position t; the last position gets ignoreIndex and so does not count.
      const next = b.op('Slice', [labels, b.ints([1], 'starts'), b.ints([Number.MAX_SAFE_INTEGER], 'ends'), b.ints([1], 'axes')]);
      counted = b.op('Pad', [next, b.ints([0, 0, 0, 1], 'pads'), b.int64Init('ignore_index', [ignoreIndex], [])], { mode: 'constant' });
    }
    const classes = shape?.[axis === 1 ? 1 : rank! - 1];
    const loss = meanCrossEntropy(b, { scores, rank, classes }, counted, ignoreIndex, lossName, opset, spec.gpuPlaceable ?? false);
    loss.setTensorType(DataType.FLOAT, []);
    return { loss, labels, prediction };
  }

  const labels = graph.addInput(labelsName).setTensorType(DataType.FLOAT, prediction.shape ?? undefined);
  let perElement: Value;
  if (spec.kind === 'bce-logits') {
    perElement = b.sub(b.op('Softplus', [prediction]), b.mul(prediction, labels));
  } else {
    const diff = b.sub(prediction, labels);
    perElement = spec.kind === 'l1' ? b.op('Abs', [diff]) : b.mul(diff, diff);
  }
  let loss = reduceMeanAll(b, perElement, spec.kind === 'mse-half' ? undefined : lossName);
  if (spec.kind === 'mse-half') loss = b.op('Mul', [loss, b.scalar(0.5, 'half')], {}, { output: lossName });
  loss.setTensorType(DataType.FLOAT, []);
  return { loss, labels, prediction };
}

/**
 * SoftmaxCrossEntropyLoss(scores, labels, reduction 'mean', ignore_index): the fused op, or with `gpuPlaceable` the
 * same math in ops every execution provider has a kernel for (onnxruntime's CUDA provider has none for the fused
 * op, which would run on the CPU with device copies around it): scores [N, C, *D], labels [N, *D],
 *   logp = LogSoftmax(scores) over C;  kept_i = (labels_i != ignore);  picked_i = logp[i, labels_i]
 *   loss = -sum_i kept_i picked_i / sum_i kept_i
 * picked is a one-hot dot product over C, whose gradient is the one-hot itself (no scatter). Ignored labels may lie
 * outside [0, C) (-100): they become 0 before OneHot and weigh 0. Before opset 13, LogSoftmax normalizes over every
 * axis from 1 on, the class axis alone only for [N, C] scores: other ranks keep the fused op there. So do scores of
 * unknown rank, whose gradient through these ops (unbroadcasting) would need the rank the fused op's does not.
 */
function meanCrossEntropy(
  b: GraphBuilder,
  { scores, rank, classes }: { scores: Value; rank: number | undefined; classes: Dim | undefined },
  labels: Value,
  ignoreIndex: number,
  lossName: string,
  opset: number,
  gpuPlaceable: boolean,
): Value {
  if (!gpuPlaceable || rank === undefined || (opset < 13 && rank !== 2)) {
    // Its log_prob output is free (the kernel computes it anyway) and spares the backward pass a Softmax.
    const [loss] = b.ops('SoftmaxCrossEntropyLoss', [scores, labels], { reduction: 'mean', ignore_index: ignoreIndex }, [lossName, b.graph.uniqueValueName('log_prob')]);
    return loss;
  }
  const logProb = b.op('LogSoftmax', [scores], { axis: 1 });
  // labels != ignore as Less or Greater: Equal's schema of opset 19 on has no CUDA kernel (Less and Greater: 13).
  const ignore = b.int64Init('ignore_index', [ignoreIndex], []);
  const counted = b.op('Or', [b.op('Less', [labels, ignore]), b.op('Greater', [labels, ignore])]);
  const safeLabels = b.op('Where', [counted, labels, b.int64Init('zero_label', [0], [])]);
  // The class count as a constant when it is static (a Shape+Slice pair per step otherwise).
  const depth = typeof classes === 'number' ? b.ints([classes], 'depth') : b.op('Slice', [b.op('Shape', [scores]), b.ints([1], 'starts'), b.ints([2], 'ends')]);
  // A Constant node, not an initializer: a float initializer the loss reads would be taken for a weight (gradcheck).
  const offOn = b.op('Constant', [], { value: floatTensor('onehot_values', [0, 1], [2]) });
  const onehot = b.op('OneHot', [safeLabels, depth, offOn], { axis: 1 });
  const picked = b.reduceSum(b.mul(logProb, onehot), [1], false);
  const kept = b.op('Cast', [counted], { to: DataType.FLOAT });
  const mean = b.div(b.reduceSum(b.mul(picked, kept), undefined, false), b.reduceSum(kept, undefined, false));
  return b.op('Neg', [mean], {}, { output: lossName });
}

/** Mean over every element, to a scalar: ReduceSum then divide by the element count (works at any opset). */
function reduceMeanAll(b: GraphBuilder, x: Value, output: string | undefined): Value {
  const sum = b.op('ReduceSum', [x], { keepdims: 0 });
  return b.op('Div', [sum, b.elementCount(x)], {}, { output });
}

const showDim = (d: number | string | null | undefined): string => (d === null || d === undefined ? '?' : String(d));
const showDims = (dims: readonly (number | string | null)[]): string => `[${dims.map(showDim).join(', ')}]`;

/**
 * Which axis of cross-entropy's logits holds the classes, read from the labels' shape: logits [N, a1, ..., ak]
 * (k >= 2) fit labels [N, a2, ..., ak] with the classes on axis 1 and labels [N, a1, ..., a(k-1)] with the classes
 * last. `logits` are the output's dims with symbols bound to the data's sizes (null where unknown, which fits any
 * size; `what` names it: "output 'logits'"). Never a guess: labels that fit both readings (T == V, or an unknown dim) need `given` (--class-axis), and
 * labels that fit neither, or not the reading given, are refused.
 */
export function resolveClassAxis(
  logits: { what: string; dims: readonly (number | null)[] | undefined },
  labels: { source: string; rowDims: readonly number[] },
  given?: ClassAxis,
): ClassAxis {
  const labelShape = `[N${labels.rowDims.map((d) => `, ${d}`).join('')}]`;
  const what = `labels ${labels.source} of shape ${labelShape}`;
  const dims = logits.dims;
  if (dims === undefined) {
    if (labels.rowDims.length === 0 || given !== undefined) return given ?? 1;
    throw new RegraftError(`${logits.what} has no declared shape, so ${what} cannot be matched to it; say which axis holds the classes with --class-axis 1 or --class-axis -1`);
  }
  const logitShape = showDims(['N', ...dims.slice(1)]);
  if (dims.length === 2) {
    if (labels.rowDims.length === 0) return 1;
    throw new RegraftError(`${what} do not fit ${logits.what} ${logitShape}, which take one class index per sample (labels of shape [N])`);
  }
  const fits = (wanted: readonly (number | null)[]) => wanted.length === labels.rowDims.length && wanted.every((d, i) => d === null || d === labels.rowDims[i]);
  const onAxis1 = dims.slice(2);
  const last = dims.slice(1, -1);
  const readings = `classes on axis 1 need labels ${showDims(['N', ...onAxis1])}, classes last ${showDims(['N', ...last])}`;
  if (given !== undefined) {
    if (fits(given === 1 ? onAxis1 : last)) return given;
    throw new RegraftError(`${what} do not fit ${logits.what} ${logitShape} with --class-axis ${given}: ${readings}`);
  }
  if (fits(onAxis1) && fits(last)) {
    throw new RegraftError(
      `${what} fit ${logits.what} ${logitShape} both ways (classes on axis 1, as PyTorch and ONNX, or last, as Hugging Face); ` +
        `say which with --class-axis 1 or --class-axis -1`,
    );
  }
  if (fits(onAxis1)) return 1;
  if (fits(last)) return -1;
  throw new RegraftError(`${what} fit no reading of ${logits.what} ${logitShape}: ${readings}; give labels of one of these shapes`);
}
