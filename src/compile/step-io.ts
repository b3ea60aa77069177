/**
 * How a compiled step is driven from JavaScript: the values it carries from step to step, and a copy of it in which
 * those values can be fed.
 */
import { cloneModel } from '../ir/clone.js';
import type { Model } from '../ir/model.js';
import { tensorDims, tensorToFloat32 } from '../ir/tensor.js';
import { UPDATED_SUFFIX } from '../training-interface.js';

/** A float tensor held outside the graph: a parameter or state value the trainer feeds, checkpoints and restores. */
export interface NamedTensor {
  data: Float32Array;
  dims: number[];
}

/** The values a step model carries from one step to the next, read off a step file: its `<name>_updated` outputs. */
export function carriedOf(step: Model): { input: string; output: string }[] {
  return step.graph.outputs
    .filter((o) => o.name.endsWith(UPDATED_SUFFIX) && step.graph.value(o.name.slice(0, -UPDATED_SUFFIX.length))?.initializer)
    .map((o) => ({ input: o.name.slice(0, -UPDATED_SUFFIX.length), output: o.name }));
}

/**
 * A copy of a step model in which the named initializers are plain graph inputs, with their stored values.
 * onnxruntime-node feeds only `session.inputNames`, which leave out initializers listed as inputs: a feed for one
 * is silently ignored, so whatever JavaScript feeds (parameters, optimizer state) must be an input without a
 * stored tensor in the session's model.
 */
export function feedableStep(step: Model, names: Iterable<string>): { model: Model; initial: Map<string, NamedTensor> } {
  const model = cloneModel(step);
  const initial = new Map<string, NamedTensor>();
  for (const name of names) {
    const t = model.graph.initializerToInput(model.graph.requireValue(name));
    initial.set(name, { data: tensorToFloat32(t), dims: tensorDims(t) });
  }
  return { model, initial };
}
