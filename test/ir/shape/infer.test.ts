import { create } from '@bufbuild/protobuf';
import { TensorProtoSchema } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import type { AttrValue } from '../../../src/ir/attributes.js';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { DataType } from '../../../src/ir/dtype.js';
import { newModel } from '../../../src/ir/model.js';
import { inferShapes } from '../../../src/ir/shape/infer.js';
import { constantBool } from '../../../src/ir/constant.js';
import { constantValues } from '../../../src/ir/shape/values.js';
import { boolTensor, floatTensor, int64Tensor, type TensorProto } from '../../../src/ir/tensor.js';
import type { Dim, Value } from '../../../src/ir/value.js';
import { modelToBytes } from '../../../src/model-io.js';
import { createSession } from '../../../src/runtime/session.js';

type In = number[] | { ints: number[]; dims?: number[] };

interface Case {
  op: string;
  inputs: (In | null)[];
  attrs?: Record<string, AttrValue>;
  opset?: number;
  outputs?: number;
}

/** One node over constant inputs; returns the inferred output shapes and the ones onnxruntime produces. */
async function inferredAndActual(c: Case): Promise<{ inferred: (Dim[] | undefined)[]; actual: number[][] }> {
  const model = newModel({ opset: c.opset ?? 17 });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const inputs = c.inputs.map((spec, i) => {
    if (!spec) return null;
    if (Array.isArray(spec)) {
      const n = spec.reduce((p, q) => p * q, 1);
      return g.addInitializer(floatTensor(`in${i}`, Float32Array.from({ length: n }, (_, k) => (k % 7) - 3), spec));
    }
    return g.addInitializer(int64Tensor(`in${i}`, spec.ints, spec.dims ?? [spec.ints.length]));
  });
  const outs = b.ops(c.op, inputs, c.attrs ?? {}, c.outputs ?? 1);
  outs.forEach((o) => g.addOutput(o));
  inferShapes(g);
  const inferred = outs.map((o) => o.shape);
  const session = await createSession(modelToBytes(model), { name: c.op });
  try {
    const fetched = await session.run({});
    return { inferred, actual: outs.map((o) => [...fetched[o.name].dims]) };
  } finally {
    await session.release();
  }
}

const CASES: [string, Case][] = [
  ['Reshape -1', { op: 'Reshape', inputs: [[2, 3, 4], { ints: [4, -1] }] }],
  ['Reshape 0', { op: 'Reshape', inputs: [[2, 3, 4], { ints: [0, -1, 2] }] }],
  ['Flatten', { op: 'Flatten', inputs: [[2, 3, 4]], attrs: { axis: 2 } }],
  ['Transpose', { op: 'Transpose', inputs: [[2, 3, 4]], attrs: { perm: [2, 0, 1] } }],
  ['Squeeze 13', { op: 'Squeeze', inputs: [[2, 1, 3, 1], { ints: [-1] }] }],
  ['Squeeze 11', { op: 'Squeeze', opset: 11, inputs: [[1, 3, 1]] }],
  ['Unsqueeze 13', { op: 'Unsqueeze', inputs: [[2, 3], { ints: [0, 3] }] }],
  ['Concat', { op: 'Concat', inputs: [[2, 3], [2, 1]], attrs: { axis: -1 } }],
  ['Split equal', { op: 'Split', inputs: [[6, 2]], outputs: 3, opset: 13 }],
  ['Split num_outputs uneven (opset 18)', { op: 'Split', inputs: [[5, 2]], attrs: { num_outputs: 2 }, outputs: 2, opset: 18 }],
  ['Split sizes', { op: 'Split', inputs: [[2, 6], { ints: [1, 5] }], attrs: { axis: 1 }, outputs: 2 }],
  ['Slice steps', { op: 'Slice', inputs: [[6, 5], { ints: [5, 1] }, { ints: [-100, 4] }, { ints: [0, 1] }, { ints: [-2, 2] }] }],
  ['Gather', { op: 'Gather', inputs: [[4, 3, 2], { ints: [0, 2, 1, 1], dims: [2, 2] }], attrs: { axis: 1 } }],
  ['Gather scalar index', { op: 'Gather', inputs: [[4, 3], { ints: [1], dims: [] }] }],
  ['Expand', { op: 'Expand', inputs: [[3, 1], { ints: [2, 1, 4] }] }],
  ['ReduceSum 13', { op: 'ReduceSum', inputs: [[2, 3, 4], { ints: [1] }], attrs: { keepdims: 0 } }],
  ['ReduceMean 17 all', { op: 'ReduceMean', inputs: [[2, 3]] }],
  ['ReduceMean 18', { op: 'ReduceMean', opset: 18, inputs: [[2, 3, 4], { ints: [0, -1] }] }],
  ['MatMul batched', { op: 'MatMul', inputs: [[2, 1, 3, 4], [5, 4, 2]] }],
  ['MatMul 1-D', { op: 'MatMul', inputs: [[4], [2, 4, 3]] }],
  ['Gemm', { op: 'Gemm', inputs: [[3, 2], [4, 3]], attrs: { transA: 1, transB: 1 } }],
  ['ConstantOfShape', { op: 'ConstantOfShape', inputs: [{ ints: [2, 3] }] }],
  ['Range', { op: 'Range', inputs: [{ ints: [1], dims: [] }, { ints: [10], dims: [] }, { ints: [3], dims: [] }] }],
  ['Pad', { op: 'Pad', inputs: [[2, 3], { ints: [0, 1, 2, 0] }] }],
  ['Pad axes (opset 18)', { op: 'Pad', opset: 18, inputs: [[2, 3, 4], { ints: [1, 2] }, null, { ints: [-2] }] }],
  ['OneHot', { op: 'OneHot', inputs: [{ ints: [0, 2] }, { ints: [4], dims: [] }, [2]], attrs: { axis: 0 } }],
  ['Conv', { op: 'Conv', inputs: [[1, 2, 7, 6], [3, 2, 3, 3]], attrs: { strides: [2, 2], pads: [1, 1, 1, 1] } }],
  ['MaxPool ceil', { op: 'MaxPool', inputs: [[1, 2, 5, 5]], attrs: { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 } }],
  ['Shape', { op: 'Shape', inputs: [[2, 3, 4]] }],
];

describe('static shape inference agrees with onnxruntime', () => {
  it.each(CASES)('%s', async (_, c) => {
    const { inferred, actual } = await inferredAndActual(c);
    expect(inferred).toEqual(actual);
  });
});

describe('symbolic dims flow through', () => {
  /** X: float [N, 3, 4] graph input, then `build` adds nodes; returns the shape of what it returns. */
  function shapeAfter(build: (b: GraphBuilder, x: Value) => Value, opset = 17): Dim[] | undefined {
    const model = newModel({ opset });
    const b = new GraphBuilder(model.graph);
    const x = model.graph.addInput('X').setTensorType(DataType.FLOAT, ['N', 3, 4]);
    const out = build(b, x);
    inferShapes(model.graph);
    return out.shape;
  }

  it("PyTorch's Shape -> Gather -> Unsqueeze -> Concat -> Reshape keeps N", () => {
    const shape = shapeAfter((b, x) => {
      const n = b.op('Gather', [b.op('Shape', [x]), b.graph.addInitializer(int64Tensor('zero', [0], []))], { axis: 0 });
      const target = b.op('Concat', [b.op('Unsqueeze', [n, b.ints([0])]), b.ints([-1])], { axis: 0 });
      return b.op('Reshape', [x, target]);
    });
    expect(shape).toEqual(['N', 12]);
  });

  it.each([
    ['Reshape [0, -1]', (b: GraphBuilder, x: Value) => b.op('Reshape', [x, b.ints([0, -1])]), ['N', 12]],
    ['Reshape [-1, 4]', (b: GraphBuilder, x: Value) => b.op('Reshape', [x, b.ints([-1, 4])]), ['3*N', 4]],
    ['Flatten', (b: GraphBuilder, x: Value) => b.op('Flatten', [x]), ['N', 12]],
    ['Transpose', (b: GraphBuilder, x: Value) => b.op('Transpose', [x], { perm: [2, 0, 1] }), [4, 'N', 3]],
    ['ReduceMean', (b: GraphBuilder, x: Value) => b.op('ReduceMean', [x], { axes: [1], keepdims: 0 }), ['N', 4]],
    ['Gather axis 1', (b: GraphBuilder, x: Value) => b.op('Gather', [x, b.ints([0, 2])], { axis: 1 }), ['N', 2, 4]],
    ['Slice all of N', (b: GraphBuilder, x: Value) => b.op('Slice', [x, b.ints([0, 1]), b.ints([2 ** 62, 3]), b.ints([0, 1])]), ['N', 2, 4]],
    ['Concat on N', (b: GraphBuilder, x: Value) => b.op('Concat', [x, x], { axis: 0 }), ['2*N', 3, 4]],
    ['MatMul', (b: GraphBuilder, x: Value) => b.op('MatMul', [x, b.floatInit('w', new Float32Array(8), [4, 2])]), ['N', 3, 2]],
    ['Expand to Shape(X)', (b: GraphBuilder, x: Value) => b.op('Expand', [b.floatInit('k', [1, 2, 3, 4], [4]), b.op('Shape', [x])]), ['N', 3, 4]],
    ['Split', (b: GraphBuilder, x: Value) => b.ops('Split', [x, b.ints([1, 3])], { axis: 2 }, 2)[1], ['N', 3, 3]],
  ] as const)('%s', (_, build, expected) => {
    expect(shapeAfter(build)).toEqual(expected);
  });
});

describe('what the rules read from a shape vector and a constant', () => {
  /** t: an int64 [3] graph input, so its length (3) is known and its contents are not. */
  function afterUnknownTarget(op: string): Dim[] | undefined {
    const model = newModel({ opset: 17 });
    const b = new GraphBuilder(model.graph);
    const x = model.graph.addInput('X').setTensorType(DataType.FLOAT, [2, 1, 4]);
    const t = model.graph.addInput('t').setTensorType(DataType.INT64, [3]);
    const out = b.op(op, op === 'ConstantOfShape' ? [t] : [x, t]);
    inferShapes(model.graph);
    return out.shape;
  }

  it('a target of unknown contents still gives Reshape, Expand and ConstantOfShape their rank', () => {
    expect(afterUnknownTarget('Reshape')).toEqual([null, null, null]);
    expect(afterUnknownTarget('ConstantOfShape')).toEqual([null, null, null]);
    // Broadcasting keeps every dim of x [2, 1, 4] but its 1s.
    expect(afterUnknownTarget('Expand')).toEqual([2, null, 4]);
  });

  it("ConstantOfShape's integer or bool fill value becomes its contents; a float one does not", () => {
    const model = newModel({ opset: 17 });
    const b = new GraphBuilder(model.graph);
    const fill = (value: TensorProto) => b.op('ConstantOfShape', [b.ints([3])], { value });
    const ints = fill(int64Tensor('seven', [7], [1]));
    const bools = fill(boolTensor('yes', [true], [1]));
    const floats = fill(floatTensor('half', [0.5], [1]));
    const facts = inferShapes(model.graph);
    expect(facts.get(ints)).toEqual([7, 7, 7]);
    expect(facts.get(bools)).toEqual([1, 1, 1]);
    expect(facts.get(floats)).toBeUndefined();
    expect(floats.shape).toEqual([3]);
  });

  it('a bool constant is read from raw_data or, without it, from int32_data', () => {
    const model = newModel({ opset: 17 });
    const raw = model.graph.addInitializer(boolTensor('raw', [true, false], [2]));
    const int32 = model.graph.addInitializer(create(TensorProtoSchema, { name: 'int32', dims: [2n], dataType: DataType.BOOL, int32Data: [0, 1] }));
    expect(constantValues(raw)).toEqual([1, 0]);
    expect(constantValues(int32)).toEqual([0, 1]);
    expect(constantBool(model.graph.addInitializer(create(TensorProtoSchema, { name: 'one', dims: [], dataType: DataType.BOOL, int32Data: [1] })))).toBe(true);
    expect(constantBool(int32)).toBeUndefined();
  });
});
