/*
 * Edits that several passes share and that must keep graph input and output names stable. They work through the
 * IR's public edge methods only (setInput, setOutput, rename, removeNode, removeInput).
 */
/**
 * Makes every reader of `old` read `replacement` instead, graph output slots included. A graph output keeps its
 * name: `old` is renamed out of the way and the replacement takes the name (through an Identity when the
 * replacement is a graph input, initializer or another graph output, whose own name must not change).
 * `except` keeps reading `old` (the node that computes the replacement from it).
 */
export function replaceValue(old, replacement, except) {
    const graph = old.graph;
    for (const { node, index } of [...old.uses])
        if (node !== except)
            node.setInput(index, replacement);
    if (!old.isGraphOutput)
        return;
    const name = old.name;
    const slots = graph.outputs.flatMap((v, i) => (v === old ? [i] : []));
    old.rename(graph.uniqueValueName(`${name}_before`));
    const pinned = replacement.isGraphInput || replacement.isInitializer || replacement.isGraphOutput || replacement.producer === null;
    let target = replacement;
    if (pinned) {
        target = graph.addNode('Identity', [replacement], {}, { outputs: [name], name: `keep_name/${name}` }).output(0);
        target.type = replacement.type;
    }
    else {
        target.rename(name);
    }
    target.type ??= old.type;
    for (const i of slots)
        graph.setOutput(i, target);
}
/**
 * Replaces `node` by the same node with only its first output and the given attributes. That output keeps its
 * name, type, readers and graph output slots; the dropped outputs must be unread and must not be graph outputs.
 */
export function keepFirstOutputOnly(node, attributes) {
    return node.graph.rebuildNode(node, { outputs: [node.output(0)], attributes });
}
/**
 * Takes a parameter that is a graph input with an initializer default (as compiled training steps keep them) off
 * the input list; its readers keep reading the now plain initializer.
 */
export function demoteInputToInitializer(v) {
    const readers = [...v.uses];
    readers.forEach(({ node, index }) => node.setInput(index, null));
    v.graph.removeInput(v);
    readers.forEach(({ node, index }) => node.setInput(index, v));
}
