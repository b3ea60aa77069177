// Opset upgrade over ONNX's backend test data: every PyTorch-converted model (opset 6 and 9) is upgraded to opset 17,
// validated, run in onnxruntime on its stored input, and compared with the output PyTorch computed. The ONNX model
// zoo's light models (opset 9) are upgraded and compared with the original run in onnxruntime.
import { fromBinary } from '@bufbuild/protobuf';
import { TensorProtoSchema, type TensorProto } from 'onnx-buf';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { DataType } from '../../src/ir/dtype.js';
import { validateModel } from '../../src/ir/index.js';
import { tensorDims, tensorToBigInt64, tensorToFloat32 } from '../../src/ir/tensor.js';
import { modelFromBytes, modelToBytes } from '../../src/model-io.js';
import { upgradeOpset } from '../../src/passes/upgrade-opset.js';
import { verifyEquivalent } from '../../src/check/equivalence.js';

const CORPUS = join(import.meta.dirname, '..', 'fixtures', 'onnx-backend');

/** The stored tensor as onnxruntime takes it, and its values as numbers for comparing. */
function toOrt(t: TensorProto): ort.Tensor {
  const dims = tensorDims(t);
  if (t.dataType === DataType.FLOAT) return new ort.Tensor('float32', tensorToFloat32(t), dims);
  if (t.dataType === DataType.INT64) return new ort.Tensor('int64', tensorToBigInt64(t), dims);
  if (t.dataType === DataType.DOUBLE) return new ort.Tensor('float64', doubles(t), dims);
  throw new Error(`test data type ${t.dataType} not handled`);
}

function doubles(t: TensorProto): Float64Array {
  if (t.doubleData.length > 0) return Float64Array.from(t.doubleData);
  const raw = t.rawData;
  return new Float64Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
}

function numbers(data: ort.Tensor['data']): number[] {
  return Array.from(data as ArrayLike<number | bigint>, Number);
}

/** Worst |got - want| / (1e-3 + |want|); NaN where PyTorch computed NaN (sqrt of a negative) counts as equal. */
function worstRelative(got: number[], want: number[]): number {
  let worst = 0;
  for (let k = 0; k < want.length; k++) {
    if (Number.isNaN(want[k]) && Number.isNaN(got[k])) continue;
    const err = Math.abs(got[k] - want[k]) / (1e-3 + Math.abs(want[k]));
    worst = Number.isNaN(err) ? Infinity : Math.max(worst, err);
  }
  return worst;
}

const readTensor = (path: string): TensorProto => fromBinary(TensorProtoSchema, readFileSync(path));

const cases = ['pytorch-converted', 'pytorch-operator'].flatMap((folder) =>
  readdirSync(join(CORPUS, folder)).map((name) => ({ folder, name, dir: join(CORPUS, folder, name) })),
);

describe('opset upgrade of PyTorch-converted models: same outputs as PyTorch', () => {
  it.each(cases.map((c) => [c.name, c]))('%s', async (_name, c) => {
    const model = modelFromBytes(readFileSync(join(c.dir, 'model.onnx')), c.name);
    const report = upgradeOpset(model, 17);
    expect(model.graph.opset('')).toBe(17);
    expect(validateModel(model)).toEqual([]);
    const data = join(c.dir, 'test_data_set_0');
    const inputs = readdirSync(data).filter((f) => f.startsWith('input_')).sort();
    const session = await ort.InferenceSession.create(modelToBytes(model));
    try {
      const fed = model.graph.inputs.filter((v) => !v.initializer);
      const feeds = Object.fromEntries(inputs.map((f, i) => [fed[i].name, toOrt(readTensor(join(data, f)))]));
      const out = await session.run(feeds);
      model.graph.outputs.forEach((v, i) => {
        const expected = readTensor(join(data, `output_${i}.pb`));
        const got = out[v.name];
        expect(got.dims, `${v.name} (${report.rewritten.join('; ')})`).toEqual(tensorDims(expected));
        const worst = worstRelative(numbers(got.data), numbers(toOrt(expected).data));
        expect(worst, `${v.name}: ${report.rewritten.join('; ')}`).toBeLessThan(1e-3);
      });
    } finally {
      await session.release();
    }
  });
});

describe('opset upgrade of the model zoo (light): same outputs as the opset-9 original in onnxruntime', () => {
  const light = readdirSync(join(CORPUS, 'light')).filter((f) => f.endsWith('.onnx') && existsSync(join(CORPUS, 'light', f)));
  it.each(light)('%s', async (file) => {
    const bytes = readFileSync(join(CORPUS, 'light', file));
    const upgraded = modelFromBytes(bytes, file);
    upgradeOpset(upgraded, 17);
    expect(validateModel(upgraded)).toEqual([]);
    const report = await verifyEquivalent(modelFromBytes(bytes, file), upgraded, { batch: 1 });
    expect(report.ok, JSON.stringify(report.outputs)).toBe(true);
  }, 60_000);
});
