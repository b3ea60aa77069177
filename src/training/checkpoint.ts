import { create } from '@bufbuild/protobuf';
import { GraphProtoSchema, ModelProtoSchema, StringStringEntryProtoSchema } from 'onnx-buf';
import { dirname } from 'node:path';
import { makeFolder } from '../util/fs-errors.js';
import { RegraftError } from '../errors.js';
import { floatTensorView, tensorDims, tensorToFloat32 } from '../ir/tensor.js';
import { loadModelFile } from '../onnx/load.js';
import { saveModelFile } from '../onnx/save.js';
import type { NamedTensor } from '../compile/step-io.js';

/**
 * A checkpoint is one ONNX file holding the trained tensors as initializers of an empty graph and the trainer's
 * state as JSON in `metadata_props`: one atomic write covers both, and `regraft inspect` can read it.
 */
export async function saveCheckpoint(path: string, tensors: ReadonlyMap<string, NamedTensor>, state: unknown): Promise<void> {
  const proto = create(ModelProtoSchema, {
    irVersion: 8n,
    producerName: 'regraft-checkpoint',
    graph: create(GraphProtoSchema, {
      name: 'checkpoint',
      initializer: [...tensors].map(([name, t]) => floatTensorView(name, t.data, t.dims)),
    }),
    metadataProps: [create(StringStringEntryProtoSchema, { key: 'regraft.state', value: JSON.stringify(state) })],
  });
  await makeFolder(dirname(path));
  await saveModelFile(proto, path);
}

export async function loadCheckpoint<S>(path: string): Promise<{ tensors: Map<string, NamedTensor>; state: S }> {
  const { proto } = await loadModelFile(path);
  const entry = proto.metadataProps.find((p) => p.key === 'regraft.state');
  if (!entry || !proto.graph) throw new RegraftError(`${path}: not a regraft checkpoint (no trainer state); point at a run directory's checkpoints/*.onnx`);
  const tensors = new Map<string, NamedTensor>();
  for (const t of proto.graph.initializer) tensors.set(t.name, { data: tensorToFloat32(t), dims: tensorDims(t) });
  return { tensors, state: JSON.parse(entry.value) as S };
}
