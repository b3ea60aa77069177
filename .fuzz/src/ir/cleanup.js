/**
 * Dead-node removal: keeps the nodes that some graph output depends on (through inputs or subgraph reads) and
 * removes the rest, consumers before producers so every removal is legal.
 */
export function eliminateDeadNodes(graph, opts = {}) {
    const live = new Set();
    const stack = [];
    const markProducer = (v) => {
        const p = v?.producer;
        if (p && !live.has(p)) {
            live.add(p);
            stack.push(p);
        }
    };
    graph.outputs.forEach(markProducer);
    const implicitInputs = new Map();
    for (const v of graph.values)
        for (const n of v.implicitUses)
            implicitInputs.set(n, [...(implicitInputs.get(n) ?? []), v]);
    while (stack.length > 0) {
        const node = stack.pop();
        node.inputs.forEach(markProducer);
        implicitInputs.get(node)?.forEach(markProducer);
    }
    let removedNodes = 0;
    const dead = graph.nodes.filter((n) => !live.has(n));
    for (let i = dead.length - 1; i >= 0; i--) {
        // Reverse order removes consumers first; dead nodes can only feed other dead nodes.
        for (const out of dead[i].outputs)
            if (out)
                for (const u of [...out.uses])
                    u.node.setInput(u.index, null);
        graph.removeNode(dead[i]);
        removedNodes++;
    }
    let removedInitializers = 0;
    if (opts.removeUnusedInitializers ?? true) {
        for (const v of [...graph.initializers]) {
            if (v.uses.length === 0 && v.implicitUses.size === 0 && !v.isGraphOutput && !v.isGraphInput) {
                graph.removeInitializer(v);
                removedInitializers++;
            }
        }
    }
    return { removedNodes, removedInitializers };
}
