/*
 * Output lists are fixed when a node is made, so giving a node an extra output (MaxPool's Indices, training-mode
 * BatchNormalization's running statistics) means replacing it. This does that without disturbing anyone who reads
 * output 0.
 */
import type { AttributeProto } from '../../ir/attributes.js';
import { floatTensor } from '../../ir/tensor.js';
import type { Node } from '../../ir/node.js';

/**
 * Replaces `node` by a node of the same op, name, domain, inputs and doc/metadata, with `attributes`, the same
 * first output (name, type, readers, graph-output slots kept) and the extra outputs named (uniquely) after
 * `extraOutputs`. The node's other outputs must be unread (removal is refused otherwise).
 */
export function rebuildWithOutputs(node: Node, attributes: ReadonlyMap<string, AttributeProto>, extraOutputs: readonly string[]): Node {
  const graph = node.graph;
  const y = node.output(0);
  const readers = [...y.uses];
  const slots = graph.outputs.flatMap((v, i) => (v === y ? [i] : []));
  const { name, opType, domain, proto } = node;
  const inputs = [...node.inputs];
  const type = y.type;
  const hadValueInfo = graph.valueInfo.has(y);
  const valueInfo = graph.valueInfo.get(y);

  // Readers and output slots of y are parked so the old node can go first and free its node and value names.
  readers.forEach(({ node: reader, index }) => reader.setInput(index, null));
  const placeholder = slots.length > 0 ? graph.addInitializer(floatTensor(graph.uniqueValueName('parked_output'), [0], [])) : undefined;
  if (placeholder) slots.forEach((i) => graph.setOutput(i, placeholder));
  const position = graph.nodes.indexOf(node);
  const next = graph.nodes[position + 1];
  graph.removeNode(node);

  const outputs = [y.name, ...extraOutputs.map((n) => graph.uniqueValueName(n))];
  const rebuilt = graph.addNode(opType, inputs, new Map(attributes), { outputs, name, domain, before: next });
  rebuilt.proto = proto;
  const out = rebuilt.output(0);
  out.type = type;
  if (hadValueInfo) graph.valueInfo.set(out, valueInfo);
  readers.forEach(({ node: reader, index }) => reader.setInput(index, out));
  slots.forEach((i) => graph.setOutput(i, out));
  if (placeholder) graph.removeInitializer(placeholder);
  return rebuilt;
}
