/**
 * The smallest model onnxruntime will start a session for (Y = Relu(X), float [1]): starting it on a provider
 * answers whether that provider runs on this machine (a GPU adapter found, CUDA's libraries loaded) before anything
 * of a run is written.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, TensorProto_DataType } from 'onnx-buf';

function floatVector(name: string) {
  return {
    name,
    type: {
      value: {
        case: 'tensorType' as const,
        value: { elemType: TensorProto_DataType.FLOAT, shape: { dim: [{ value: { case: 'dimValue' as const, value: 1n } }] } },
      },
    },
  };
}

export function probeModelBytes(): Uint8Array {
  return toBinary(
    ModelProtoSchema,
    create(ModelProtoSchema, {
      irVersion: 8n,
      producerName: 'regraft',
      opsetImport: [{ domain: '', version: 17n }],
      graph: {
        name: 'provider_probe',
        node: [{ opType: 'Relu', input: ['X'], output: ['Y'], name: 'relu' }],
        input: [floatVector('X')],
        output: [floatVector('Y')],
      },
    }),
  );
}
