/**
 * Several optimizer steps in one onnxruntime run: the feedable step model as the body of a Scan over stacked
 * batches. Between runs of the plain step every parameter and optimizer state crosses into JavaScript and back
 * (for a small MLP, over a megabyte per step, a third to a half of the step's time at batch 32); inside a Scan they
 * stay in onnxruntime's buffers for all the run's steps, and come out once.
 *
 *   Before (one step per run):   carried, x [B, ...], labels [B], lr []      -> carried', loss []
 *   After  (K steps per run):    carried, x [K, B, ...], labels [K, B], lr [K] -> carried'', loss [K]
 *
 * The carried values are Scan's state variables, in the step's order; the data, labels and the learning rate are
 * its scan inputs, sliced along axis 0, so each step gets its own batch and its own rate; the loss is a scan
 * output, and so is every other output of the step (stacked, under its own name). K is the first dim of the fed
 * data, so one model runs any number of steps. Each step computes what a run of the plain step would: the same
 * kernels in the same order, Dropout's generators advancing from step to step as from run to run
 * (test/training/steps-per-run.test.ts checks the weights bit for bit).
 *
 * Wrapped only from opset 9 (Scan before it had a batch axis) and for a step with no subgraphs of its own: the
 * body's inputs and outputs are renamed, which a nested If/Loop body reading them by name would not follow.
 */
import { RegraftError } from '../errors.js';
import { attributeSubgraphs } from '../ir/attributes.js';
import { cloneModel } from '../ir/clone.js';
import { exportGraph } from '../ir/export.js';
import { Graph } from '../ir/graph.js';
import { Model } from '../ir/model.js';
import { tensorType, type Dim, type Value } from '../ir/value.js';

/** The dim the stacked inputs and the loss get in front: the number of steps in the run. */
export const STEPS_DIM = 'steps';

export interface ScanStepsNames {
  /** Carried inputs and their outputs, in the order Scan threads them. */
  carried: readonly { input: string; output: string }[];
  /** Per-step inputs: data inputs, labels, the learning rate. */
  perStep: readonly string[];
  loss: string;
}

/** Whether `model` can be wrapped: opset 9 or later, and no node carries a subgraph. */
export function canScanSteps(model: Model): boolean {
  return (model.graph.opset('') ?? 0) >= 9 && model.graph.nodes.every((n) => [...n.attributes.values()].every((a) => attributeSubgraphs(a).length === 0));
}

export function scanStepsModel(step: Model, names: ScanStepsNames): Model {
  if (!canScanSteps(step)) throw new RegraftError('scanStepsModel: the step has opset < 9 or a node with a subgraph; run it one step at a time');
  const g = cloneModel(step).graph;
  const carriedIn = names.carried.map((c) => g.requireValue(c.input, 'carried input'));
  const carriedOut = names.carried.map((c) => g.requireValue(c.output, 'carried output'));
  const perStep = names.perStep.map((n) => g.requireValue(n, 'step input'));
  const loss = g.requireValue(names.loss, 'loss');
  const bodyInputs = [...carriedIn, ...perStep];
  // The step's other outputs stay outputs, stacked: onnxruntime computes a training-mode BatchNormalization
  // wrongly when its raw running variance is not one (running-variance.ts), and the step keeps it as an output.
  const others = g.outputs.filter((v) => v !== loss && !carriedOut.includes(v));
  const bodyOutputs = [...carriedOut, loss, ...others];
  for (const v of [...bodyInputs, ...bodyOutputs]) {
    if (!v.type) throw new RegraftError(`scanStepsModel: '${v.name}' has no declared type`);
  }
  // The outer graph reads and writes the step's own names; inside the body they get a suffix, since a Scan body
  // may not reuse names of the graph around it.
  const outerTypes = new Map<string, { elem: number; shape: Dim[] }>();
  for (const v of [...bodyInputs, ...bodyOutputs]) outerTypes.set(v.name, { elem: v.elemType!, shape: v.shape ?? [] });
  const outerInputNames = bodyInputs.map((v) => v.name);
  const outerOutputNames = bodyOutputs.map((v) => v.name);
  for (const v of [...bodyInputs, ...bodyOutputs]) v.rename(g.uniqueValueName(`${v.name}.in_step`));
  reorder(g, bodyInputs, bodyOutputs);
  const bodyProto = exportGraph(g);

  const outer = new Graph('scan_steps', new Map(step.opsets));
  const stacked = new Set(perStep.map((v) => outerInputNames[bodyInputs.indexOf(v)]));
  const inputs = outerInputNames.map((name) => {
    const t = outerTypes.get(name)!;
    const shape = stacked.has(name) ? [STEPS_DIM, ...t.shape] : t.shape;
    return outer.addInput(name, tensorType(t.elem, shape));
  });
  const node = outer.addNode('Scan', inputs, { body: bodyProto, num_scan_inputs: perStep.length }, { outputs: outerOutputNames, name: 'steps' });
  node.outputs.forEach((o, i) => {
    const t = outerTypes.get(outerOutputNames[i])!;
    const shape = i >= carriedOut.length ? [STEPS_DIM, ...t.shape] : t.shape;
    o!.type = tensorType(t.elem, shape);
    outer.addOutput(o!);
  });
  return new Model(step.proto, outer);
}

/** Sets the body's inputs and outputs to exactly these, in this order (Scan matches them by position). */
function reorder(g: Graph, inputs: readonly Value[], outputs: readonly Value[]): void {
  for (const v of [...g.outputs]) g.removeOutput(v);
  for (const v of outputs) g.addOutput(v);
  const extra = g.inputs.filter((v) => !inputs.includes(v));
  if (extra.length > 0) throw new RegraftError(`scanStepsModel: the step also reads '${extra[0].name}', which is neither carried nor fed per step`);
  g.setInputOrder(inputs);
}
