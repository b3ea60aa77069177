/**
 * Gradient accumulation: N micro-batches per update, as one N-times-larger batch would give (up to float rounding).
 * A compiled step is one onnxruntime run, so the update is split in two models:
 *
 *   gradient step (per micro-batch):  forward, loss, backward;  acc' = acc + grad_weight * g   (per parameter)
 *   update step (per N micro-batches): the optimizer on p, its state and g = acc;  p', state'
 *
 * `grad_weight` is the micro-batch's share of the update's samples (b_i / sum b): the loss is a mean over the
 * batch, so the large batch's gradient is the sample-weighted mean of the micro-batches' gradients. Penalties are
 * in every micro-batch's loss and the weights sum to 1, so they count once. Clipping and the optimizer see the summed
 * gradient, as in PyTorch (clip after accumulation). BatchNormalization still normalizes each micro-batch by its
 * own statistics and updates its running statistics per micro-batch, as PyTorch does.
 *
 * The accumulators travel between runs like parameters (carried inputs and `<name>_updated` outputs); the
 * trainer feeds zeros at the start of each update. Each micro-batch costs a step without the optimizer, plus the
 * accumulators in and out; the update costs one optimizer pass (measured in the README).
 */
import { GraphBuilder } from '../ir/builder.js';
import { DataType } from '../ir/dtype.js';
import type { Model } from '../ir/model.js';
import { newModel } from '../ir/model.js';
import { assertValid } from '../ir/validate.js';
import type { Value } from '../ir/value.js';
import { GRAD_ACCUMULATOR_SUFFIX, GRAD_WEIGHT_NAME, LR_NAME, UPDATED_SUFFIX } from '../training-interface.js';
import { emitOptimizer, type Carried, type OptimizerConfig } from './optimizers.js';

/** The update half of an accumulating step. */
export interface UpdateStep {
  model: Model;
  lr: string;
  /** Parameters and optimizer state, read and written back. */
  carried: { input: string; output: string }[];
  /** Per parameter: the update model's gradient input, which the gradient step's accumulator feeds. */
  gradients: { param: string; input: string }[];
}

/**
 * Adds `acc' = acc + grad_weight * g` for each parameter to the gradient step; returns the accumulators (carried)
 * and the weight input. Accumulators are zero initializers named `<param>.grad_accum`.
 */
export function emitAccumulators(b: GraphBuilder, gradients: ReadonlyMap<Value, Value>): { carried: Carried[]; weight: Value } {
  const graph = b.graph;
  const weight = graph.addInput(GRAD_WEIGHT_NAME).setTensorType(DataType.FLOAT, []);
  const carried: Carried[] = [];
  for (const [p, g] of gradients) {
    const dims = p.initializer!.dims.map(Number);
    const acc = b.floatInit(`${p.name}${GRAD_ACCUMULATOR_SUFFIX}`, new Float32Array(dims.reduce((a, d) => a * d, 1)), dims);
    acc.setTensorType(DataType.FLOAT, dims);
    const next = b.op('Add', [acc, b.mul(weight, g)], {}, { output: graph.uniqueValueName(`${acc.name}${UPDATED_SUFFIX}`) });
    carried.push({ input: acc, output: next });
  }
  return { carried, weight };
}

/**
 * The update step: the optimizer alone, on parameters (stored with the values `params` hold in the gradient step),
 * their state and one gradient input per parameter (named like the accumulator that feeds it).
 */
export function compileUpdateStep(params: readonly Value[], optimizer: OptimizerConfig, opset: number): UpdateStep {
  const model = newModel({ opset, graphName: 'update' });
  const graph = model.graph;
  const b = new GraphBuilder(graph);
  b.namePrefix = 'optimizer/';
  const lr = graph.addInput(LR_NAME).setTensorType(DataType.FLOAT, []);
  const grads = new Map<Value, Value>();
  const gradients: UpdateStep['gradients'] = [];
  for (const source of params) {
    const dims = source.initializer!.dims.map(Number);
    const p = graph.addInitializer(source.initializer!, { exactName: true }).setTensorType(DataType.FLOAT, dims);
    const g = graph.addInput(`${source.name}${GRAD_ACCUMULATOR_SUFFIX}`).setTensorType(DataType.FLOAT, dims);
    grads.set(p, g);
    gradients.push({ param: p.name, input: g.name });
  }
  const { carried } = emitOptimizer(b, optimizer, grads, lr);
  for (const c of carried) {
    graph.exposeAsInput(c.input);
    graph.addOutput(c.output);
    c.output.type = c.input.type;
  }
  graph.toposort();
  assertValid(model);
  return { model, lr: lr.name, carried: carried.map((c) => ({ input: c.input.name, output: c.output.name })), gradients };
}
