import { RegraftError } from '../errors.js';
import type { Node } from '../ir/node.js';

/**
 * Gives a Dropout node a mask output (its second, optional output), so that the backward pass can reuse the mask
 * the forward pass drew instead of drawing another (Dropout's gradient is dy * mask / (1 - ratio)).
 *
 * Before:  x -> Dropout -> y                 After:  x -> Dropout -> y, y_mask
 * The node keeps its name, inputs and attributes, and `y` keeps its name and every reader. Returns the node that
 * now carries the mask (the given one if it already did).
 */
export function exposeDropoutMask(node: Node): Node {
  if (node.opType !== 'Dropout') throw new RegraftError(`exposeDropoutMask: ${node.describe()} is not a Dropout node`);
  if (node.outputs[1]) return node;
  const y = node.output(0);
  return node.graph.rebuildNode(node, { outputs: [y, `${y.name}_mask`] });
}
