/** Builders and file helpers shared by the codec tests. */
import { create, toBinary } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema,
  AttributeProto_AttributeType,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  StringStringEntryProtoSchema,
  TensorProtoSchema,
  TensorProto_DataLocation,
  TensorProto_DataType,
  type GraphProto,
  type ModelProto,
  type TensorProto,
} from 'onnx-buf';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegraftError } from '../../src/errors.js';
import { Rng } from '../../src/util/rng.js';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'onnx-backend');

/** All .onnx files under the backend fixtures, sorted. */
export async function corpusModels(): Promise<string[]> {
  const entries = await readdir(FIXTURES, { recursive: true });
  return entries.filter((e) => e.endsWith('.onnx')).sort().map((e) => join(FIXTURES, e));
}

/** A fresh temp folder; remove it with cleanup(). */
export async function tempFolder(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'regraft-onnx-test-'));
}

export async function cleanup(folder: string): Promise<void> {
  await rm(folder, { recursive: true, force: true });
}

/** A float tensor of `count` seeded values, stored in raw_data. */
export function floatTensor(name: string, count: number, seed: number): TensorProto {
  const rng = new Rng(seed);
  const values = new Float32Array(count).map(() => rng.uniform(-1, 1));
  return create(TensorProtoSchema, {
    name,
    dims: [BigInt(count)],
    dataType: TensorProto_DataType.FLOAT,
    rawData: new Uint8Array(values.buffer),
  });
}

/** A tensor that points to `location` in external data. */
export function externalTensor(name: string, count: number, entries: Record<string, string>): TensorProto {
  return create(TensorProtoSchema, {
    name,
    dims: [BigInt(count)],
    dataType: TensorProto_DataType.FLOAT,
    dataLocation: TensorProto_DataLocation.EXTERNAL,
    externalData: Object.entries(entries).map(([key, value]) => create(StringStringEntryProtoSchema, { key, value })),
  });
}

export function model(graph: GraphProto): ModelProto {
  return create(ModelProtoSchema, {
    irVersion: 8n,
    producerName: 'regraft-test',
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 17n })],
    graph,
  });
}

/** An If node whose then_branch is `body`. */
export function ifNode(body: GraphProto): ReturnType<typeof create<typeof NodeProtoSchema>> {
  return create(NodeProtoSchema, {
    opType: 'If',
    input: ['cond'],
    output: ['y'],
    attribute: [create(AttributeProtoSchema, { name: 'then_branch', type: AttributeProto_AttributeType.GRAPH, g: body })],
  });
}

/** A model whose main graph holds `levels` If nodes nested inside each other's then_branch. */
export function nestedIfModel(levels: number): ModelProto {
  let graph = create(GraphProtoSchema, { name: `g${levels}` });
  for (let i = levels - 1; i >= 0; i--) graph = create(GraphProtoSchema, { name: `g${i}`, node: [ifNode(graph)] });
  return model(graph);
}

export function modelBytes(m: ModelProto): Uint8Array {
  return toBinary(ModelProtoSchema, m);
}

/** Runs `fn`, expects a RegraftError, and returns its message after checking it is one line. */
export async function errorOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (err) {
    if (!(err instanceof RegraftError)) throw err;
    if (err.message.includes('\n')) throw new Error(`message is not one line: ${JSON.stringify(err.message)}`);
    return err.message;
  }
  throw new Error('expected a RegraftError, but nothing was thrown');
}
