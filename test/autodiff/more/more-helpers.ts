// Helpers shared by the test/autodiff/more tests: running one forward op in onnxruntime (to compare a rewrite's
// forward values) and building a backward pass that must be refused.
import { buildBackward } from '../../../src/autodiff/backward.js';
import type { AttrValue } from '../../../src/ir/attributes.js';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { DataType } from '../../../src/ir/dtype.js';
import { newModel } from '../../../src/ir/model.js';
import { floatTensor as tensorProto } from '../../../src/ir/tensor.js';
import { modelToBytes } from '../../../src/model-io.js';
import { createSession } from '../../../src/runtime/session.js';
import { floatTensor } from '../../../src/runtime/tensors.js';
import type { OpModel } from '../helpers.js';

export { count, distinctValues } from '../nn/nn-helpers.js';

/** Builds the backward pass of a test model for all its params (for the cases that must be refused). */
export function buildBackwardOf(m: OpModel): void {
  const g = m.model.graph;
  buildBackward(m.model, { loss: g.requireValue(m.loss), wrt: m.params.map((p) => g.requireValue(p)) });
}

/** A float tensor given to runOneOp: fed as a graph input when `feed`, otherwise an initializer. */
export interface OneOpInput {
  data: number[];
  shape: number[];
}

/** Runs `y = op(inputs...)` alone in onnxruntime (opset `opset`) and returns y's values. */
export async function runOneOp(op: string, inputs: OneOpInput[], attrs: Record<string, AttrValue | undefined>, opset = 17): Promise<Float32Array> {
  const model = newModel({ opset });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const [first, ...rest] = inputs;
  const x = g.addInput('x').setTensorType(DataType.FLOAT, first.shape);
  const others = rest.map((t, i) => g.addInitializer(tensorProto(`c${i}`, Float32Array.from(t.data), t.shape), { exactName: true }));
  g.addOutput(b.op(op, [x, ...others], attrs, { output: 'y' }));
  const session = await createSession(modelToBytes(model), { name: `${op} forward` });
  try {
    const out = await session.run({ x: floatTensor(Float32Array.from(first.data), first.shape) });
    return out.y.data as Float32Array;
  } finally {
    await session.release();
  }
}
