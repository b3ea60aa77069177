import { create, equals } from '@bufbuild/protobuf';
import { GraphProtoSchema, NodeProtoSchema, OperatorSetIdProtoSchema, TypeProtoSchema, ValueInfoProtoSchema, } from 'onnx-buf';
import { sameItems, sameStrings, shallowCopy } from './proto-util.js';
import { tensorType } from './value.js';
/**
 * Writes the IR back to a ModelProto. Every proto object the IR did not change is reused as it was read, so a
 * model with no rewrite comes out byte for byte as it went in. The result shares tensors with the IR: treat it as
 * read-only.
 */
export function exportModel(model) {
    const out = shallowCopy(model.proto);
    // Before IR version 4 every initializer must also be a graph input (onnxruntime refuses the model otherwise):
    // initializers a rewrite added are listed too.
    out.graph = exportGraph(model.graph, { initializersAsInputs: model.irVersion < 4 });
    out.opsetImport = exportOpsets(model);
    return out;
}
function exportOpsets(model) {
    const original = model.proto.opsetImport;
    const seen = new Set();
    const list = original.map((op) => {
        const key = op.domain === 'ai.onnx' ? '' : op.domain;
        seen.add(key);
        const version = model.opsets.get(key);
        if (version === undefined || BigInt(version) === op.version)
            return op;
        const copy = shallowCopy(op);
        copy.version = BigInt(version);
        return copy;
    });
    for (const [domain, version] of model.opsets) {
        if (!seen.has(domain))
            list.push(create(OperatorSetIdProtoSchema, { domain, version: BigInt(version) }));
    }
    return sameItems(list, original) ? original : list;
}
export function exportGraph(graph, opts = {}) {
    const base = graph.proto ?? create(GraphProtoSchema, {});
    const gp = shallowCopy(base);
    if (gp.name !== graph.name)
        gp.name = graph.name;
    gp.node = reuseIfSame(graph.nodes.map(exportNode), base.node);
    gp.initializer = reuseIfSame(graph.initializers.map(exportInitializer), base.initializer);
    const inputs = opts.initializersAsInputs ? [...graph.inputs, ...graph.initializers.filter((v) => !v.isGraphInput)] : graph.inputs;
    gp.input = reuseIfSame(inputs.map((v) => exportValueInfo(v, graph.inputInfo.get(v) ?? infoOfInitializer(v))), base.input);
    gp.output = reuseIfSame(graph.outputs.map((v) => exportValueInfo(v, graph.outputInfo.get(v))), base.output);
    const valueInfo = [];
    for (const [v, info] of graph.valueInfo) {
        // Values that were removed drop out; inputs, outputs and initializers need no value_info entry of their own.
        if (graph.value(v.name) !== v)
            continue;
        if (!info && (v.isGraphInput || v.isGraphOutput || v.isInitializer || !v.type))
            continue;
        valueInfo.push(exportValueInfo(v, info));
    }
    gp.valueInfo = reuseIfSame(valueInfo, base.valueInfo);
    gp.sparseInitializer = base.sparseInitializer.filter((s) => !s.values || graph.value(s.values.name) !== undefined);
    if (sameItems(gp.sparseInitializer, base.sparseInitializer))
        gp.sparseInitializer = base.sparseInitializer;
    return gp;
}
/** A graph-input entry for an initializer that has no declared type: its tensor's element type and dims. */
function infoOfInitializer(v) {
    if (v.type || !v.initializer)
        return undefined;
    return create(ValueInfoProtoSchema, { name: v.name, type: tensorType(v.initializer.dataType, v.initializer.dims.map(Number)) });
}
function reuseIfSame(list, original) {
    return sameItems(list, original) ? original : list;
}
function exportNode(node) {
    const inputs = node.inputs.map((v) => v?.name ?? '');
    // New nodes leave trailing omitted optional inputs out, as ONNX writers do; nodes from the file keep their form.
    if (!node.proto)
        while (inputs.length > 0 && inputs[inputs.length - 1] === '')
            inputs.pop();
    const outputs = node.outputs.map((v) => v?.name ?? '');
    const attributes = [...node.attributes.values()];
    const p = node.proto;
    if (p &&
        p.opType === node.opType &&
        p.domain === node.domain &&
        p.name === node.name &&
        sameStrings(p.input, inputs) &&
        sameStrings(p.output, outputs) &&
        sameItems(p.attribute, attributes)) {
        return p;
    }
    if (!p) {
        return create(NodeProtoSchema, { opType: node.opType, domain: node.domain, name: node.name, input: inputs, output: outputs, attribute: attributes });
    }
    const np = shallowCopy(p);
    np.opType = node.opType;
    np.domain = node.domain;
    np.name = node.name;
    np.input = inputs;
    np.output = outputs;
    np.attribute = attributes;
    return np;
}
function exportInitializer(v) {
    const t = v.initializer;
    if (t.name === v.name)
        return t;
    const copy = shallowCopy(t);
    copy.name = v.name;
    return copy;
}
function exportValueInfo(v, info) {
    if (info && info.name === v.name && sameType(info, v))
        return info;
    if (!info)
        return create(ValueInfoProtoSchema, { name: v.name, type: v.type });
    const copy = shallowCopy(info);
    copy.name = v.name;
    copy.type = v.type;
    return copy;
}
function sameType(info, v) {
    if (info.type === v.type)
        return true;
    if (!info.type || !v.type)
        return info.type === v.type;
    return equals(TypeProtoSchema, info.type, v.type);
}
