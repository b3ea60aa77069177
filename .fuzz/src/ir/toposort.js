import { RegraftError } from '../errors.js';
/**
 * Orders the nodes so that every node comes after the producers of its inputs (implicit subgraph reads included).
 * Kahn's algorithm, always taking the ready node that came first in the current order: an already sorted graph keeps
 * its order exactly (so an untouched model still exports byte for byte), and new nodes land next to their inputs.
 */
export function toposort(graph) {
    const nodes = graph.nodes;
    const position = new Map(nodes.map((n, i) => [n, i]));
    const pending = new Map();
    const dependents = new Map();
    const depsOf = (node) => {
        const deps = new Set();
        for (const v of node.inputs)
            if (v?.producer && position.has(v.producer))
                deps.add(v.producer);
        for (const v of graph.values)
            if (v.implicitUses.has(node) && v.producer && position.has(v.producer))
                deps.add(v.producer);
        return deps;
    };
    const implicitReaders = new Set();
    for (const v of graph.values)
        for (const n of v.implicitUses)
            implicitReaders.add(n);
    for (const node of nodes) {
        const deps = implicitReaders.has(node) ? depsOf(node) : new Set(node.inputs.flatMap((v) => (v?.producer && position.has(v.producer) ? [v.producer] : [])));
        pending.set(node, deps.size);
        for (const d of deps) {
            const list = dependents.get(d);
            if (list)
                list.push(node);
            else
                dependents.set(d, [node]);
        }
    }
    // A binary heap keyed by original position: O(n log n) and stable.
    const heap = [];
    const less = (a, b) => position.get(a) < position.get(b);
    const push = (n) => {
        heap.push(n);
        let i = heap.length - 1;
        while (i > 0) {
            const p = (i - 1) >> 1;
            if (!less(heap[i], heap[p]))
                break;
            [heap[i], heap[p]] = [heap[p], heap[i]];
            i = p;
        }
    };
    const pop = () => {
        const top = heap[0];
        const last = heap.pop();
        if (heap.length > 0) {
            heap[0] = last;
            let i = 0;
            for (;;) {
                const l = 2 * i + 1;
                const r = l + 1;
                let m = i;
                if (l < heap.length && less(heap[l], heap[m]))
                    m = l;
                if (r < heap.length && less(heap[r], heap[m]))
                    m = r;
                if (m === i)
                    break;
                [heap[i], heap[m]] = [heap[m], heap[i]];
                i = m;
            }
        }
        return top;
    };
    for (const [node, count] of pending)
        if (count === 0)
            push(node);
    const order = [];
    while (heap.length > 0) {
        const node = pop();
        order.push(node);
        for (const d of dependents.get(node) ?? []) {
            const left = pending.get(d) - 1;
            pending.set(d, left);
            if (left === 0)
                push(d);
        }
    }
    if (order.length !== nodes.length) {
        const stuck = nodes.find((n) => pending.get(n) > 0);
        throw new RegraftError(`graph '${graph.name}' has a cycle through ${stuck.describe()}; ONNX graphs must be acyclic`);
    }
    graph._setNodeOrder(order);
}
