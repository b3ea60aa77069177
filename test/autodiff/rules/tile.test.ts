import { describe, expect, it } from 'vitest';
import { gradcheck } from '../../../src/check/gradcheck.js';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { DataType } from '../../../src/ir/dtype.js';
import { newModel } from '../../../src/ir/model.js';
import { floatTensor as tensorProto } from '../../../src/ir/tensor.js';
import { floatTensor } from '../../../src/runtime/tensors.js';
import { checkGradients, computeGradients, expectClose, makeOpModel } from '../helpers.js';

describe('Tile gradient', () => {
  it('sums the copies (hand computed)', async () => {
    // X [2] = [a, b], repeats [3] -> Y = [a, b, a, b, a, b]; dX = [R0 + R2 + R4, R1 + R3 + R5]
    const m = makeOpModel({
      op: 'Tile',
      inputs: [
        { name: 'X', kind: 'param', shape: [2], values: [1, 2] },
        { name: 'repeats', kind: 'int', shape: [1], values: [3] },
      ],
    });
    const R = m.weights[0];
    const { grads } = await computeGradients(m);
    expectClose(grads.X.data, [R[0] + R[2] + R[4], R[1] + R[3] + R[5]], 1e-6, 'dX');
  });

  it.each([
    { x: [2, 3], repeats: [2, 2] },
    { x: [3, 1, 2], repeats: [1, 4, 2] },
    { x: [2, 3, 2], repeats: [3, 1, 1] },
  ])('passes a central-difference check: $x x $repeats', async ({ x, repeats }) => {
    const m = makeOpModel({
      op: 'Tile',
      inputs: [
        { name: 'X', kind: 'param', shape: x },
        { name: 'repeats', kind: 'int', shape: [repeats.length], values: repeats },
      ],
    });
    await checkGradients(m, { label: JSON.stringify({ x, repeats }) });
  });

  it('works with sizes known only at run time', async () => {
    // x [N, 3] symbolic; y = Tile(x * P, [2, 3]); loss = sum(y * y)
    const model = newModel({ opset: 17 });
    const g = model.graph;
    const b = new GraphBuilder(g);
    const p = g.addInitializer(tensorProto('P', Float32Array.from([0.5, -1, 2]), [3]), { exactName: true });
    const x = g.addInput('x').setTensorType(DataType.FLOAT, ['N', 3]);
    const y = b.op('Tile', [b.mul(x, p), b.ints([2, 3])]);
    g.addOutput(b.identity(b.reduceSum(b.mul(y, y), undefined, false), 'loss'));
    const feeds = { x: floatTensor(Float32Array.from([1, 2, 3, -1, 0.5, 0.25]), [2, 3]) };
    const [result] = await gradcheck({ model, loss: 'loss', feeds });
    expect(result.maxRelError).toBeLessThan(1e-2);
  });
});
