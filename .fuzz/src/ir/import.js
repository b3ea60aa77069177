import { RegraftError } from '../errors.js';
import { attributeSubgraphs } from './attributes.js';
import { Graph } from './graph.js';
import { Model } from './model.js';
/** How deep If/Loop/Scan bodies may nest before a model is refused (real models use a handful of levels). */
export const MAX_IR_SUBGRAPH_DEPTH = 64;
/**
 * Builds the IR of a decoded model. Nothing is copied or normalized: every proto object is kept by reference, so
 * exporting an untouched model gives back the same bytes. The graph may be out of topological order or reference
 * undefined values; the validator reports such problems, import does not.
 */
export function importModel(proto) {
    const opsets = new Map();
    for (const op of proto.opsetImport)
        opsets.set(op.domain === 'ai.onnx' ? '' : op.domain, Number(op.version));
    const gp = proto.graph;
    if (!gp)
        throw new RegraftError('model has no graph; it is not a usable ONNX model');
    const graph = importGraph(gp, opsets);
    return new Model(proto, graph);
}
function importGraph(gp, opsets) {
    const graph = new Graph(gp.name, opsets);
    graph.proto = gp;
    for (const info of gp.input) {
        const existing = graph.value(info.name);
        const v = existing ?? graph.addInput(info.name, info.type);
        if (existing)
            throw new RegraftError(`graph input '${info.name}' is listed twice in graph '${gp.name}'`);
        graph.inputInfo.set(v, info);
    }
    for (const t of gp.initializer) {
        const v = graph.value(t.name);
        if (v && v.initializer)
            throw new RegraftError(`initializer '${t.name}' is defined twice in graph '${gp.name}'`);
        if (v)
            graph.setInitializer(v, t);
        else
            graph.addInitializer(t, { exactName: true });
    }
    for (const st of gp.sparseInitializer) {
        const name = st.values?.name ?? '';
        // Sparse initializers stay in graph.proto; a value with no producer stands for them in the IR.
        if (name && !graph.value(name))
            graph._newValue(name, true);
    }
    // Outputs first, inputs second: nodes may reference values produced later (unsorted files must still import).
    const nodes = gp.node.map((np) => {
        const attrs = new Map(np.attribute.map((a) => [a.name, a]));
        const node = graph._importNode(np.opType, np.domain, np.name, attrs, np.output);
        node.proto = np;
        return node;
    });
    const lookup = (name) => graph.value(name) ?? graph._newValue(name, true);
    gp.node.forEach((np, i) => {
        const node = nodes[i];
        np.input.forEach((name, j) => node.setInput(j, name === '' ? null : lookup(name)));
        for (const a of np.attribute) {
            for (const sub of attributeSubgraphs(a)) {
                for (const name of outerReads(sub, new Set(), 1, graph.reservedNames)) {
                    const v = graph.value(name);
                    if (v)
                        v.implicitUses.add(node);
                }
            }
        }
    });
    for (const info of gp.valueInfo) {
        const v = lookup(info.name);
        graph.valueInfo.set(v, info);
        if (!v.type)
            v.type = info.type;
    }
    for (const info of gp.output) {
        const v = lookup(info.name);
        graph.addOutput(v, info);
        if (!v.type)
            v.type = info.type;
    }
    return graph;
}
/**
 * Names a subgraph reads from enclosing scopes. Names it defines are added to `reserved` so new names never shadow
 * them.
 */
function outerReads(g, enclosing, depth, reserved) {
    if (depth > MAX_IR_SUBGRAPH_DEPTH) {
        throw new RegraftError(`subgraph '${g.name}' is nested more than ${MAX_IR_SUBGRAPH_DEPTH} levels deep; regraft refuses such models`);
    }
    const defined = new Set(enclosing);
    const define = (n) => {
        defined.add(n);
        reserved.add(n);
    };
    g.input.forEach((i) => define(i.name));
    g.initializer.forEach((t) => define(t.name));
    g.sparseInitializer.forEach((s) => s.values && define(s.values.name));
    const reads = new Set();
    for (const n of g.node) {
        for (const name of n.input)
            if (name !== '' && !defined.has(name))
                reads.add(name);
        for (const a of n.attribute) {
            for (const sub of attributeSubgraphs(a))
                for (const name of outerReads(sub, defined, depth + 1, reserved))
                    if (!defined.has(name))
                        reads.add(name);
        }
        n.output.forEach((o) => o !== '' && define(o));
    }
    for (const o of g.output)
        if (!defined.has(o.name))
            reads.add(o.name);
    return reads;
}
