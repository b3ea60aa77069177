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
