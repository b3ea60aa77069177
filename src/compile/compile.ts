import { buildBackward } from '../autodiff/backward.js';
import { exposeDropoutMask, exposeMaxPoolIndices, toTrainingModeBatchNorm } from '../autodiff/forward-outputs.js';
import { RegraftError } from '../errors.js';
import { GraphBuilder } from '../ir/builder.js';
import { DataType } from '../ir/dtype.js';
import type { Model } from '../ir/model.js';
import { assertValid } from '../ir/validate.js';
import type { Value } from '../ir/value.js';
import type { ConstantInitializer } from '../ir/parameters.js';
import { addPenalty, type ParameterSelection } from '../passes/add-penalty.js';
import { decomposeRecurrent, type DecomposedNode } from '../passes/decompose-rnn.js';
import { fixInputDims, type FixedDims } from '../passes/fix-input-dims.js';
import { stripTraining } from '../passes/strip-training.js';
import { GRAD_WEIGHT_NAME, LOSS_NAME, LR_NAME, UPDATED_SUFFIX } from '../training-interface.js';
import { compileUpdateStep, emitAccumulators, type UpdateStep } from './accumulation.js';
import { attachLoss, type ClassAxis, type LossKind } from './losses.js';
import { chooseParameters, decayedParameters } from './parameter-choice.js';
import { unbiasedRunningVariance } from './running-variance.js';
import { tieWeights, type TiedWeight } from './tied-weights.js';
import { enableDropoutTraining } from './training-mode.js';
import { DEFAULT_OPTIMIZER, emitOptimizer, type Carried, type OptimizerConfig, type OptimizerKind } from './optimizers.js';
import { cloneModel } from '../ir/clone.js';
import { convsAsGemm } from '../passes/conv-as-gemm.js';
import type { ExecutionProvider } from '../runtime/execution-provider.js';

export interface CompileOptions {
  loss: LossKind;
  /** The model output the loss reads (default: the first). */
  output?: string;
  /** cross-entropy on logits of rank 3 or more: the axis that holds the classes (losses.ts, resolveClassAxis). */
  classAxis?: ClassAxis;
  /** cross-entropy and causal-lm: the label that does not count (default -100, as PyTorch). */
  ignoreIndex?: number;
  /** L2 coefficient: adds (l2 / 2) sum(w^2), the gradient of PyTorch's weight_decay=l2. */
  l2?: number;
  /** L1 coefficient: adds l1 sum(|w|). */
  l1?: number;
  /**
   * Which parameters weight decay covers: the L1/L2 penalties and AdamW's decoupled decay (default: every trained
   * parameter but biases and normalization scales and shifts; 'all'; or globs).
   */
  penaltyParams?: ParameterSelection;
  /** Optimizer (default sgd). 'none' compiles loss and gradients only. */
  optimizer?: OptimizerKind | OptimizerConfig;
  /** Output `<param>_grad` for every trainable parameter. */
  emitGradients?: boolean;
  /** Globs of initializer names not to train (they win over `train`). */
  freeze?: readonly string[];
  /**
   * Fixed sizes for symbolic dims of the data inputs (`{ sequence: 12 }`): the step is compiled for them and its
   * inputs declare them. Needed where the step needs a static size: LSTM/GRU/RNN are unrolled over a fixed
   * number of time steps (`recurrenceLengthDims` names the dims). Without it every dynamic dim stays dynamic.
   */
  dims?: FixedDims;
  /** Globs of initializers to train although they are taken for constants (see ir/parameters.ts). */
  train?: readonly string[];
  /** Train tied copies (tied-weights.ts) as separate tensors. */
  untie?: boolean;
  /**
   * Gradient accumulation: the step adds `grad_weight` times each micro-batch's gradient into accumulators
   * instead of updating, and `update` applies the optimizer to their sums (accumulation.ts).
   */
  accumulate?: boolean;
  /**
   * The execution provider the step is meant for (default cpu). On a GPU provider the loss is written in ops it has
   * kernels for (losses.ts, gpuPlaceable); on CPU it is onnxruntime's fused op, which the CPU runs fastest.
   */
  provider?: ExecutionProvider;
}

/** The train-step model and the names a trainer needs to drive it. */
export interface TrainStep {
  model: Model;
  /** The original model's data inputs, same names. */
  dataInputs: string[];
  labels: string;
  /** The learning-rate input (absent with optimizer 'none'). */
  lr?: string;
  loss: string;
  /** Trainable parameters, in graph order. */
  params: string[];
  /** Values the trainer feeds back each step: parameters, optimizer state, BatchNormalization running statistics. */
  carried: { input: string; output: string }[];
  /** `<param>_grad` outputs, when emitted. */
  gradients: Record<string, string>;
  penalized: string[];
  /** What weight decay covers (the penalties, when given, and AdamW's decay): the penaltyParams selection, by name. */
  decayed: string[];
  /** Float initializers the loss does not depend on through any differentiable path (kept fixed). */
  untrainable: string[];
  /** Float initializers taken for constants (not trained), with the reason. */
  constants: { name: string; reason: string }[];
  /** Tied copies, each trained as its parameter (absent from the step; the trainer writes them from it). */
  tied: TiedWeight[];
  /** With `accumulate`: the update half; the step itself then outputs accumulated gradients, not parameters. */
  update?: UpdateStep;
  /** With `accumulate`: the scalar input weighting each micro-batch's gradient. */
  gradWeight?: string;
  /** LSTM/GRU/RNN nodes unrolled into primitive ops so they can be differentiated (empty when there were none). */
  decomposed?: DecomposedNode[];
  /** Conv nodes written as im2col + Gemm in the step (passes/conv-as-gemm.ts; the model itself keeps them). */
  convsAsGemm: string[];
}

/**
 * Compiles a model into one training step made of standard ONNX ops: forward in training mode (Dropout on),
 * loss (+ L1/L2 penalties), backward pass, optimizer update. Inputs: the model's inputs, `labels`, `lr`, and every
 * parameter and optimizer state under its own name (kept as initializers too, so the file runs standalone on the
 * stored values). Outputs: `loss`, the updated parameters and state (`<name>_updated`), and `<param>_grad` on request.
 * The input model is not modified.
 */
export function compileTrainStep(source: Model, opts: CompileOptions): TrainStep {
  const model = cloneModel(source);
  const graph = model.graph;
  const dataInputs = graph.inputs.filter((v) => !v.initializer).map((v) => v.name);
  const originalOutputs = [...graph.outputs];
  if (opts.dims) fixInputDims(model, opts.dims);
  // Read on the model as given: recurrent layers' biases and tied copies are recognizable only before the rewrites.
  const choice = chooseParameters(model, { freeze: opts.freeze, train: opts.train, untie: opts.untie });
  const decayed = decayedParameters(model, opts.penaltyParams, choice);
  // Recurrent ops have no gradient rule: unrolled over time, they train through their weights, which keep their names.
  const { decomposed } = decomposeRecurrent(model);
  tieWeights(graph, choice.ties);
  const onGpu = opts.provider !== undefined && opts.provider !== 'cpu';
  // onnxruntime's CPU Conv is one matrix-vector product per image where an output has few positions: a Gemm is not.
  const gemmConvs = onGpu ? [] : convsAsGemm(model);

  enableDropoutTraining(model);
  const { loss, labels } = attachLoss(model, { kind: opts.loss, output: opts.output, classAxis: opts.classAxis, ignoreIndex: opts.ignoreIndex, gpuPlaceable: onGpu });
  graph.addOutput(loss);
  let penalized: string[] = [];
  if ((opts.l2 ?? 0) > 0 || (opts.l1 ?? 0) > 0) {
    penalized = addPenalty(model, { loss: loss.name, l2: opts.l2, l1: opts.l1, names: decayed }).penalized;
  }
  const total = graph.requireValue(LOSS_NAME);
  // Inference outputs are not step outputs: the step returns the loss and what changes.
  for (const out of originalOutputs) graph.removeOutput(out);

  const candidates = choice.candidates;
  // Forward nodes whose backward needs more than they output by default: Dropout's mask, MaxPool's indices; and
  // BatchNormalization switched to batch statistics, its running statistics carried from step to step.
  for (const node of graph.nodes.filter((n) => n.opType === 'Dropout')) exposeDropoutMask(node);
  for (const node of graph.nodes.filter((n) => n.opType === 'MaxPool')) exposeMaxPoolIndices(node);
  const runningStats: { input: Value; output: Value }[] = [];
  const onnxRunningVars: Value[] = [];
  const statistics = new GraphBuilder(graph);
  statistics.namePrefix = 'batchnorm_statistics/';
  for (const node of graph.nodes.filter((n) => n.opType === 'BatchNormalization')) {
    const bn = toTrainingModeBatchNorm(node);
    const variance = unbiasedRunningVariance(statistics, bn.node, bn.runningVar, bn.varInput);
    runningStats.push({ input: bn.meanInput, output: bn.runningMean }, { input: bn.varInput, output: variance });
    onnxRunningVars.push(bn.runningVar);
  }
  const backward = buildBackward(model, { loss: total, wrt: candidates });
  const params = candidates.filter((p) => backward.grads.has(p));
  const gradientsOf = new Map(params.map((p) => [p, backward.grads.get(p)!]));

  const b = new GraphBuilder(graph);
  b.namePrefix = 'optimizer/';
  const optimizer: OptimizerConfig = {
    ...(typeof opts.optimizer === 'object' ? opts.optimizer : { kind: opts.optimizer ?? DEFAULT_OPTIMIZER }),
    decayed,
  };
  let lr: Value | undefined;
  let carried: Carried[];
  let update: UpdateStep | undefined;
  if (opts.accumulate) {
    if (optimizer.kind === 'none') throw new RegraftError('accumulate: gradient accumulation needs an optimizer; choose one (e.g. --optimizer adam)');
    if (graph.value(GRAD_WEIGHT_NAME)) throw new RegraftError(`the model already has a value named '${GRAD_WEIGHT_NAME}'; rename it before compiling`);
    carried = emitAccumulators(b, gradientsOf).carried;
    update = compileUpdateStep(params, optimizer, graph.opset('') ?? 17);
  } else {
    if (optimizer.kind !== 'none') {
      if (graph.value(LR_NAME)) throw new RegraftError(`the model already has a value named '${LR_NAME}'; rename it before compiling`);
      lr = graph.addInput(LR_NAME).setTensorType(DataType.FLOAT, []);
    }
    carried = emitOptimizer(b, optimizer, gradientsOf, lr ?? total).carried;
  }

  const gradients: Record<string, string> = {};
  if (opts.emitGradients) {
    for (const p of params) {
      const g = backward.grads.get(p)!;
      graph.addOutput(g);
      gradients[p.name] = g.name;
    }
  }
  for (const stat of runningStats) {
    stat.output.rename(graph.uniqueValueName(`${stat.input.name}${UPDATED_SUFFIX}`));
    carried.push(stat);
  }
  // onnxruntime 1.30 computes a wrong training-mode BatchNormalization unless both of its running statistics are
  // graph outputs: the mean is the carried output itself, ONNX's (biased) variance update is output as well.
  for (const v of onnxRunningVars) graph.addOutput(v);
  for (const c of carried) {
    graph.exposeAsInput(c.input);
    graph.addOutput(c.output);
    c.output.type = c.input.type;
  }
  // With optimizer 'none' (or accumulation) parameters are not carried, yet they stay inputs: callers feed
  // perturbed or trained values.
  for (const p of params) graph.exposeAsInput(p);
  for (const p of params) backward.grads.get(p)!.type = p.type;
  graph.cleanup({ removeUnusedInitializers: true });
  graph.toposort();
  assertValid(model);
  const constants = choice.constants.map((c: ConstantInitializer) => ({ name: c.value.name, reason: c.reason }));
  return {
    model,
    dataInputs,
    labels: labels.name,
    lr: lr?.name,
    loss: total.name,
    params: params.map((p) => p.name),
    carried: carried.map((c) => ({ input: c.input.name, output: c.output.name })),
    gradients,
    penalized,
    decayed: decayed.filter((name) => params.some((p) => p.name === name) || penalized.includes(name)),
    untrainable: backward.unused.map((v) => v.name),
    constants,
    tied: choice.ties,
    decomposed,
    convsAsGemm: gemmConvs,
    ...(update && { update, gradWeight: GRAD_WEIGHT_NAME }),
  };
}

/**
 * Eval model for validation: inference form (no Dropout, BatchNormalization on stored statistics) plus the data
 * loss (no penalties), reading `labels`. With `withLoss: false` it is the bare inference form, for callers that
 * compute metrics from the logits themselves.
 */
export function compileEvalModel(
  source: Model,
  opts: Pick<CompileOptions, 'loss' | 'output' | 'classAxis' | 'ignoreIndex'> & { withLoss?: boolean },
): { model: Model; loss?: string; labels?: string; outputs: string[] } {
  const model = cloneModel(source);
  stripTraining(model);
  const outputs = model.graph.outputs.map((v) => v.name);
  if (opts.withLoss === false) {
    assertValid(model);
    return { model, outputs };
  }
  const { loss, labels } = attachLoss(model, { kind: opts.loss, output: opts.output, classAxis: opts.classAxis, ignoreIndex: opts.ignoreIndex });
  model.graph.addOutput(loss);
  model.graph.toposort();
  assertValid(model);
  return { model, loss: loss.name, labels: labels.name, outputs };
}
