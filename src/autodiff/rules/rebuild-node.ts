import type { AttributeProto } from '../../ir/attributes.js';
import type { Node } from '../../ir/node.js';

/**
 * Gives a node extra outputs (MaxPool's Indices, training-mode BatchNormalization's running statistics) with
 * `attributes`, keeping its first output as it is (readers, graph output slots, type). Extra outputs are named
 * (uniquely) after `extraOutputs`; the node's other former outputs must be unread.
 */
export function rebuildWithOutputs(node: Node, attributes: ReadonlyMap<string, AttributeProto>, extraOutputs: readonly string[]): Node {
  return node.graph.rebuildNode(node, { outputs: [node.output(0), ...extraOutputs], attributes });
}
