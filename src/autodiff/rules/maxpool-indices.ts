/*
 * MaxPool's gradient scatters dY to where the maxima were. The forward pass already knows where: the optional
 * Indices output. exposeMaxPoolIndices gives a forward MaxPool that output (as the compiler does for Dropout masks)
 * so the backward pass reads it instead of pooling a second time.
 */
import { OPSET_UPGRADE_HINT, RegraftError } from '../../errors.js';
import type { AttrValue } from '../../ir/attributes.js';
import type { Node } from '../../ir/node.js';
import { rebuildWithOutputs } from './rebuild-node.js';

/** The attributes of a MaxPool node as builder attributes (for an equivalent node with the Indices output). */
export function maxPoolAttrs(node: Node): Record<string, AttrValue | undefined> {
  const a = node.attrs;
  const ints = (name: string) => (a.has(name) ? a.ints(name) : undefined);
  const int = (name: string) => (a.has(name) ? a.int(name) : undefined);
  return {
    kernel_shape: a.ints('kernel_shape'),
    strides: ints('strides'),
    pads: ints('pads'),
    dilations: ints('dilations'),
    ceil_mode: int('ceil_mode'),
    storage_order: int('storage_order'),
    auto_pad: a.has('auto_pad') ? a.string('auto_pad') : undefined,
  };
}

/**
 * Returns a MaxPool equivalent to `node` whose output 1 is Indices: `node` itself when it has one, otherwise a
 * replacement (same name, inputs, attributes; output 0 keeps its name, readers and graph-output slots).
 */
export function exposeMaxPoolIndices(node: Node): Node {
  if (node.opType !== 'MaxPool') throw new RegraftError(`exposeMaxPoolIndices: ${node.describe()} is not a MaxPool`);
  if (node.outputs[1]) return node;
  const opset = node.graph.opset('') ?? 0;
  if (opset < 8) throw new RegraftError(`${node.describe()}: MaxPool has an Indices output from opset 8, the model has opset ${opset}; ${OPSET_UPGRADE_HINT}`);
  return rebuildWithOutputs(node, node.attributes, [`${node.output(0).name}_indices`]);
}
