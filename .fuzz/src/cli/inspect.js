import { dtypeName } from '../ir/dtype.js';
import { numel, tensorByteSize } from '../ir/tensor.js';
import { loadModelWithInfo } from '../model-io.js';
import { checkTrainable } from '../compile/trainability.js';
function describeValue(v) {
    return { name: v.name, type: v.elemType === undefined ? 'unknown' : dtypeName(v.elemType), shape: v.shape ?? null };
}
/** What `regraft inspect` reports, as data (the JSON form is this object). */
export function summarizeModel(loaded) {
    const model = loaded.model;
    const graph = model.graph;
    const ops = {};
    for (const n of graph.nodes) {
        const key = n.domain ? `${n.domain}.${n.opType}` : n.opType;
        ops[key] = (ops[key] ?? 0) + 1;
    }
    let elements = 0;
    let bytes = 0;
    for (const v of graph.initializers) {
        elements += numel(v.initializer.dims);
        bytes += tensorByteSize(v.initializer);
    }
    return {
        path: loaded.path,
        irVersion: model.irVersion,
        producer: [model.proto.producerName, model.proto.producerVersion].filter(Boolean).join(' ') || 'unknown',
        opsets: Object.fromEntries([...model.opsets].map(([d, v]) => [d || 'ai.onnx', v])),
        inputs: graph.inputs.filter((v) => !v.initializer).map(describeValue),
        outputs: graph.outputs.map(describeValue),
        nodes: graph.nodes.length,
        ops: Object.fromEntries(Object.entries(ops).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
        parameters: { tensors: graph.initializers.length, elements, bytes },
        externalData: loaded.externalData.map(({ tensor, location, offset, length }) => ({ tensor, location, offset, length })),
    };
}
function formatShape(s) {
    return `${s.type}[${s.shape ? s.shape.map((d) => d ?? '?').join(', ') : '?'}]`;
}
function formatBytes(n) {
    if (n < 1024)
        return `${n} B`;
    if (n < 1024 ** 2)
        return `${(n / 1024).toFixed(1)} KiB`;
    if (n < 1024 ** 3)
        return `${(n / 1024 ** 2).toFixed(1)} MiB`;
    return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
export function formatSummary(s) {
    const lines = [
        `${s.path}`,
        `  IR version ${s.irVersion}, producer ${s.producer}`,
        `  opsets: ${Object.entries(s.opsets).map(([d, v]) => `${d} ${v}`).join(', ')}`,
        `  inputs:`,
        ...s.inputs.map((i) => `    ${i.name}: ${formatShape(i)}`),
        `  outputs:`,
        ...s.outputs.map((o) => `    ${o.name}: ${formatShape(o)}`),
        `  parameters: ${s.parameters.elements.toLocaleString('en-US')} in ${s.parameters.tensors} tensors (${formatBytes(s.parameters.bytes)})`,
        `  nodes: ${s.nodes}`,
        ...Object.entries(s.ops).map(([op, n]) => `    ${op.padEnd(28)} ${n}`),
    ];
    if (s.externalData.length > 0) {
        const files = [...new Set(s.externalData.map((e) => e.location))];
        lines.push(`  external data: ${s.externalData.length} tensors in ${files.join(', ')}`);
    }
    if (s.training)
        lines.push(`  training: ${formatTrainability(s.training)}`);
    return lines;
}
function formatTrainability(t) {
    if (!t.trainable)
        return `not as it is: ${t.reason}`;
    const unrolled = t.unrolled > 0 ? `, ${t.unrolled} recurrent layer${t.unrolled === 1 ? '' : 's'} unrolled` : '';
    return `compiles into a training step (${t.parameters} trainable tensors${unrolled})`;
}
export function registerInspect(program, io) {
    program
        .command('inspect')
        .description('show inputs, outputs, opsets, op histogram, parameter count and external data of a model')
        .argument('<model>', 'ONNX model file')
        .option('--json', 'print the summary as JSON')
        .option('--trainable', 'also say whether the model compiles into a training step as it is, and if not, why')
        .action(async (path, opts) => {
        const loaded = await loadModelWithInfo(path);
        const summary = summarizeModel(loaded);
        if (opts.trainable)
            summary.training = checkTrainable(loaded.model);
        if (opts.json)
            io.out(JSON.stringify(summary, null, 2));
        else
            formatSummary(summary).forEach((l) => io.out(l));
    });
}
