/*
 * Shape rules of the recurrent layers LSTM, GRU and RNN (the spec's layouts):
 *   layout 0:  X [T, N, F] -> Y [T, D, N, H], Y_h (and LSTM's Y_c) [D, N, H]
 *   layout 1:  X [N, T, F] -> Y [N, T, D, H], Y_h, Y_c [N, D, H]
 * with D = 2 for bidirectional, else 1, and H = hidden_size (or W's dim 1 over the gate count: 4, 3, 1).
 * Stacked layers (PyTorch exports each layer as its own node, Squeeze/Transpose between) chain through these.
 */
import type { Dim } from '../value.js';
import type { ShapeRule } from './types.js';

const GATES: Record<string, number> = { LSTM: 4, GRU: 3, RNN: 1 };

export const recurrent: ShapeRule = (node, c) => {
  const elemType = c.elemType(node.inputs[0]);
  const x = c.shape(node.inputs[0]);
  const layout = node.attrs.int('layout', 0);
  const directions = node.attrs.string('direction', 'forward') === 'bidirectional' ? 2 : 1;
  const w = c.shape(node.inputs[1]);
  const gates = GATES[node.opType];
  const fromW = w && typeof w[1] === 'number' && gates ? w[1] / gates : null;
  const hidden: Dim = node.attrs.has('hidden_size') ? node.attrs.int('hidden_size') : fromW;
  const steps: Dim = x && x.length === 3 ? x[layout === 1 ? 1 : 0] : null;
  const batch: Dim = x && x.length === 3 ? x[layout === 1 ? 0 : 1] : null;
  const y = layout === 1 ? [batch, steps, directions, hidden] : [steps, directions, batch, hidden];
  const state = layout === 1 ? [batch, directions, hidden] : [directions, batch, hidden];
  return [{ elemType, shape: y }, { elemType, shape: state }, { elemType, shape: state }];
};
