import { RegraftError } from '../errors.js';
import type { Node } from '../ir/node.js';

/**
 * Gives a Dropout node a mask output (its second, optional output), so that the backward pass can reuse the mask
 * the forward pass drew instead of drawing another (Dropout's gradient is dy * mask / (1 - ratio)).
 *
 * Before:  x -> Dropout -> y                 After:  x -> Dropout -> y, y_mask
 * The node is replaced by one with the same inputs and attributes; its output `y` keeps its name and every reader
 * (graph output slots included) is rewired to the new node. The new node is named after the old one (with a
 * suffix, since names are unique). Returns the node that now carries the mask (the given one if it already did).
 */
export function exposeDropoutMask(node: Node): Node {
  if (node.opType !== 'Dropout') throw new RegraftError(`exposeDropoutMask: ${node.describe()} is not a Dropout node`);
  if (node.outputs[1]) return node;
  const graph = node.graph;
  const y = node.output(0);
  const yName = y.name;
  const replacement = graph.addNode('Dropout', node.inputs, new Map(node.attributes), {
    outputs: [graph.uniqueValueName(`${yName}_tmp`), graph.uniqueValueName(`${yName}_mask`)],
    name: node.name || undefined,
    domain: node.domain,
    before: node,
  });
  replacement.proto = node.proto;
  const newY = replacement.output(0);
  if (y.type) newY.type = y.type;
  const info = graph.valueInfo.get(y);
  const wasListed = graph.valueInfo.has(y);
  y.replaceAllUsesWith(newY);
  graph.outputs.forEach((v, i) => {
    if (v === y) graph.setOutput(i, newY);
  });
  graph.removeNode(node);
  newY.rename(yName);
  if (wasListed) graph.valueInfo.set(newY, info);
  return replacement;
}
