import { create } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { Graph } from './graph.js';
/**
 * A model: its main graph plus everything else the file held (ir_version, producer, metadata, functions, training
 * info, ...), which stays in `proto` untouched and is written back as it was.
 */
export class Model {
    proto;
    graph;
    constructor(
    /** The ModelProto this model was read from (its `graph` field is superseded by `graph`). */
    proto, graph) {
        this.proto = proto;
        this.graph = graph;
    }
    /** Opset imports, shared with the graph: domain ('' for ai.onnx) -> version. */
    get opsets() {
        return this.graph.opsets;
    }
    get irVersion() {
        return Number(this.proto.irVersion);
    }
    /** Imports an operator set (or raises its version) so that new nodes in that domain are valid. */
    requireOpset(domain, minVersion) {
        const key = domain === 'ai.onnx' ? '' : domain;
        const current = this.opsets.get(key);
        if (current === undefined || current < minVersion)
            this.opsets.set(key, minVersion);
    }
}
/** An empty model to build with the GraphBuilder (sample models, tests). */
export function newModel(opts = {}) {
    const opsets = new Map([['', opts.opset ?? 17], ...Object.entries(opts.extraOpsets ?? {})]);
    const proto = create(ModelProtoSchema, {
        irVersion: BigInt(opts.irVersion ?? 8),
        producerName: opts.producerName ?? 'regraft',
        opsetImport: [],
    });
    return new Model(proto, new Graph(opts.graphName ?? 'main', opsets));
}
