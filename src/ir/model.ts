import { create } from '@bufbuild/protobuf';
import { ModelProtoSchema, type ModelProto } from 'onnx-buf';
import { Graph } from './graph.js';

/**
 * A model: its main graph plus everything else the file held (ir_version, producer, metadata, functions, training
 * info, ...), which stays in `proto` untouched and is written back as it was.
 */
export class Model {
  constructor(
    /** The ModelProto this model was read from (its `graph` field is superseded by `graph`). */
    readonly proto: ModelProto,
    readonly graph: Graph,
  ) {}

  /** Opset imports, shared with the graph: domain ('' for ai.onnx) -> version. */
  get opsets(): Map<string, number> {
    return this.graph.opsets;
  }

  get irVersion(): number {
    return Number(this.proto.irVersion);
  }

  /** Imports an operator set (or raises its version) so that new nodes in that domain are valid. */
  requireOpset(domain: string, minVersion: number): void {
    const key = domain === 'ai.onnx' ? '' : domain;
    const current = this.opsets.get(key);
    if (current === undefined || current < minVersion) this.opsets.set(key, minVersion);
  }
}

export interface NewModelOptions {
  /** ai.onnx opset version (default 17: Dropout-13, ReduceSum axes as input, LayerNormalization). */
  opset?: number;
  /** Other operator sets to import: domain -> version. */
  extraOpsets?: Record<string, number>;
  /** IR version (default 8, which onnxruntime 1.x reads). */
  irVersion?: number;
  graphName?: string;
  producerName?: string;
}

/** An empty model to build with the GraphBuilder (sample models, tests). */
export function newModel(opts: NewModelOptions = {}): Model {
  const opsets = new Map<string, number>([['', opts.opset ?? 17], ...Object.entries(opts.extraOpsets ?? {})]);
  const proto = create(ModelProtoSchema, {
    irVersion: BigInt(opts.irVersion ?? 8),
    producerName: opts.producerName ?? 'regraft',
    opsetImport: [],
  });
  return new Model(proto, new Graph(opts.graphName ?? 'main', opsets));
}
