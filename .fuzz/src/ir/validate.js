import { RegraftError } from '../errors.js';
/** Domains regraft knows besides those a model imports explicitly. */
const STANDARD_DOMAINS = new Set(['', 'ai.onnx']);
/**
 * Structural checks every pipeline ends with: single assignment, every input defined before use (topological
 * order), every node's domain imported, initializer/input consistency, graph outputs defined. Each issue names the
 * node or tensor at fault. Returns the issues; `assertValid` throws on the first.
 */
export function validateModel(model) {
    return validateGraph(model.graph);
}
export function validateGraph(graph) {
    const issues = [];
    const report = (message) => issues.push({ message });
    const defined = new Set();
    for (const v of graph.inputs)
        defined.add(v);
    for (const v of graph.initializers)
        defined.add(v);
    for (const v of graph.values)
        if (!v.producer && graph.proto?.sparseInitializer.some((s) => s.values?.name === v.name))
            defined.add(v);
    if (!graph.opsets.has('') && graph.nodes.some((n) => STANDARD_DOMAINS.has(n.domain))) {
        report(`model imports no ai.onnx opset but graph '${graph.name}' uses standard operators; add an opset_import entry`);
    }
    const producedNames = new Map();
    for (const v of graph.initializers)
        producedNames.set(v.name, `initializer '${v.name}'`);
    for (const v of graph.inputs)
        producedNames.set(v.name, `graph input '${v.name}'`);
    const implicitReads = new Map();
    for (const v of graph.values)
        for (const n of v.implicitUses)
            implicitReads.set(n, [...(implicitReads.get(n) ?? []), v]);
    for (const node of graph.nodes) {
        const domain = node.domain === 'ai.onnx' ? '' : node.domain;
        if (!graph.opsets.has(domain)) {
            report(`${node.describe()}: domain '${node.domain}' is not imported by the model; add it to opset_import`);
        }
        node.inputs.forEach((v, i) => {
            if (!v)
                return;
            if (!defined.has(v)) {
                const why = v.producer ? `is produced later by ${v.producer.describe()} (graph not in topological order; run toposort)` : 'is never defined';
                report(`${node.describe()}: input ${i} '${v.name}' ${why}`);
            }
        });
        for (const v of implicitReads.get(node) ?? []) {
            if (!defined.has(v))
                report(`${node.describe()}: a subgraph reads '${v.name}' before it is defined`);
        }
        for (const out of node.outputs) {
            if (!out)
                continue;
            const prior = producedNames.get(out.name);
            if (prior)
                report(`${node.describe()}: output '${out.name}' is already defined by ${prior} (single assignment)`);
            producedNames.set(out.name, node.describe());
            defined.add(out);
        }
    }
    for (const v of graph.initializers) {
        if (v.initializer && v.initializer.name !== v.name)
            report(`initializer '${v.initializer.name}' is stored under value '${v.name}'`);
        if (v.isGraphInput && v.elemType !== undefined && v.initializer && v.elemType !== v.initializer.dataType) {
            report(`graph input '${v.name}' is declared with element type ${v.elemType} but its initializer has ${v.initializer.dataType}`);
        }
    }
    for (const v of graph.outputs) {
        if (!defined.has(v))
            report(`graph output '${v.name}' is never defined`);
    }
    return issues;
}
export function assertValid(model) {
    const issues = validateModel(model);
    if (issues.length > 0) {
        const more = issues.length > 1 ? ` (and ${issues.length - 1} more issue${issues.length > 2 ? 's' : ''})` : '';
        throw new RegraftError(`invalid model: ${issues[0].message}${more}`);
    }
}
