/**
 * fix-input-dims: gives symbolic dims of the data inputs fixed sizes, so everything computed from them becomes static.
 *
 *   Before:  x: float [batch, sequence, 6]            (dims: { sequence: 12 })
 *   After:   x: float [batch, 12, 6]; a declared dim `sequence - 1` elsewhere becomes 11 once shapes are inferred
 *
 * When it applies: compiling a step for one length where the step needs a static one (LSTM, GRU and RNN are
 * unrolled over a fixed number of time steps). onnxruntime then refuses a batch of another length instead of
 * computing it wrong. Every name must be a dim of some data input; initializers are not touched.
 */
import { RegraftError } from '../errors.js';
import type { Model } from '../ir/index.js';
import { substituteDim, symbolsOf } from '../ir/shape/symbolic-dims.js';
import type { Pass, PassResult } from './pass.js';

export type FixedDims = Readonly<Record<string, number>>;

export function fixInputDims(model: Model, dims: FixedDims): PassResult {
  const inputs = model.graph.inputs.filter((v) => !v.initializer);
  for (const [name, size] of Object.entries(dims)) {
    if (!Number.isInteger(size) || size < 1) throw new RegraftError(`dim '${name}' = ${size}: a dim size must be a whole number of at least 1`);
    if (!inputs.some((v) => v.shape?.some((d) => symbolsOf(d).includes(name)))) {
      const shown = inputs.map((v) => `${v.name} ${JSON.stringify(v.shape ?? '?')}`).join(', ');
      throw new RegraftError(`dim '${name}': no data input has a dim of that name (inputs: ${shown}); name one of their symbolic dims`);
    }
  }
  let modified = false;
  for (const v of inputs) {
    const shape = v.shape;
    const elemType = v.elemType;
    if (!shape || elemType === undefined) continue;
    const fixed = shape.map((d) => substituteDim(d, dims));
    if (fixed.some((d, i) => d !== shape[i])) {
      v.setTensorType(elemType, fixed);
      modified = true;
    }
  }
  return { model, modified };
}

export const fixInputDimsPass: Pass<FixedDims> = {
  name: 'fix-input-dims',
  run: (model, dims) => fixInputDims(model, dims),
};

/**
 * The sizes the data has for some symbolic dims: each name is looked up where a data input declares it as a dim
 * of its own (`x: [batch, sequence, 6]` with data of shape [320, 12, 6] gives sequence = 12).
 */
export function dimsOfData(model: Model, names: readonly string[], shapes: Readonly<Record<string, readonly number[]>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of names) {
    for (const v of model.graph.inputs) {
      const axis = v.shape?.indexOf(name) ?? -1;
      const data = shapes[v.name];
      if (axis >= 0 && data && axis < data.length) {
        out[name] = data[axis];
        break;
      }
    }
    if (!(name in out)) throw new RegraftError(`dim '${name}': no data input declares it as one of its dims, so the data cannot give its size; give it with --dim ${name}=SIZE`);
  }
  return out;
}
