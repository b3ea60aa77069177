// Y = Relu(X), X and Y float [N, 3] with a symbolic batch dim: the smallest model worth running.
import { create, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, TensorProto_DataType } from 'onnx-buf';

function floatValue(name: string) {
  return {
    name,
    type: {
      value: {
        case: 'tensorType' as const,
        value: {
          elemType: TensorProto_DataType.FLOAT,
          shape: { dim: [{ value: { case: 'dimParam' as const, value: 'N' } }, { value: { case: 'dimValue' as const, value: 3n } }] },
        },
      },
    },
  };
}

export function reluModelBytes(): Uint8Array {
  const model = create(ModelProtoSchema, {
    irVersion: 8n,
    producerName: 'regraft-test',
    opsetImport: [{ domain: '', version: 17n }],
    graph: {
      name: 'relu',
      node: [{ opType: 'Relu', input: ['X'], output: ['Y'], name: 'relu' }],
      input: [floatValue('X')],
      output: [floatValue('Y')],
    },
  });
  return toBinary(ModelProtoSchema, model);
}
