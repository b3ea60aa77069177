import { describe, expect, it } from 'vitest';
import { gradcheck } from '../../../src/check/gradcheck.js';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { DataType } from '../../../src/ir/dtype.js';
import { newModel } from '../../../src/ir/model.js';
import { floatTensor as tensorProto } from '../../../src/ir/tensor.js';
import { floatTensor } from '../../../src/runtime/tensors.js';
import { checkGradients, computeGradients, expectClose, makeOpModel } from '../helpers.js';

describe('DepthToSpace / SpaceToDepth gradients', () => {
  it('send each dY element back to the element it came from (hand computed)', async () => {
    // X [1, 4, 1, 1] = channels (c0..c3), b = 2. DCR: Y [1,1,2,2] = [[c0, c1], [c2, c3]] (channel = b1*2 + b2).
    // CRD with C' = 1 gives the same layout; SpaceToDepth undoes DCR. Every gradient is R in the matching order.
    for (const mode of ['DCR', 'CRD']) {
      const m = makeOpModel({ op: 'DepthToSpace', inputs: [{ name: 'X', kind: 'param', shape: [1, 4, 1, 1], values: [1, 2, 3, 4] }], attrs: { blocksize: 2, mode } });
      expectClose((await computeGradients(m)).grads.X.data, m.weights[0], 1e-6, mode);
    }
    // DCR vs CRD differ once C' > 1: X [1, 8, 1, 1], Y[c', h, w]: DCR reads channel (h*2 + w)*2 + c', CRD c'*4 + h*2 + w
    for (const [mode, source] of [['DCR', (c: number, k: number) => k * 2 + c], ['CRD', (c: number, k: number) => c * 4 + k]] as const) {
      const m = makeOpModel({ op: 'DepthToSpace', inputs: [{ name: 'X', kind: 'param', shape: [1, 8, 1, 1] }], attrs: { blocksize: 2, mode } });
      const R = m.weights[0];
      const expected = new Array<number>(8);
      for (let c = 0; c < 2; c++) for (let k = 0; k < 4; k++) expected[source(c, k)] = R[c * 4 + k];
      expectClose((await computeGradients(m)).grads.X.data, expected, 1e-6, `${mode} C'=2`);
    }
  });

  it.each([
    { op: 'DepthToSpace', x: [2, 8, 2, 3], blocksize: 2, mode: 'DCR' },
    { op: 'DepthToSpace', x: [1, 18, 2, 1], blocksize: 3, mode: 'CRD' },
    { op: 'DepthToSpace', x: [2, 12, 1, 2], blocksize: 2, mode: 'CRD' },
    { op: 'SpaceToDepth', x: [2, 3, 4, 6], blocksize: 2 },
    { op: 'SpaceToDepth', x: [1, 2, 3, 6], blocksize: 3 },
  ])('passes a central-difference check: $op $x b $blocksize $mode', async ({ op, x, blocksize, mode }) => {
    const m = makeOpModel({ op, inputs: [{ name: 'X', kind: 'param', shape: x }], attrs: { blocksize, mode } });
    await checkGradients(m, { label: `${op} ${JSON.stringify(x)}` });
  });

  it('works with sizes known only at run time (CRD)', async () => {
    // x [N, 8, H, W] symbolic; y = DepthToSpace(x * P, 2, CRD); loss = sum(y * y * sin(y))
    const model = newModel({ opset: 17 });
    const g = model.graph;
    const b = new GraphBuilder(g);
    const p = g.addInitializer(tensorProto('P', Float32Array.from({ length: 8 }, (_, i) => 0.3 + 0.1 * i), [8, 1, 1]), { exactName: true });
    const x = g.addInput('x').setTensorType(DataType.FLOAT, ['N', 8, 'H', 'W']);
    const y = b.op('DepthToSpace', [b.mul(x, p)], { blocksize: 2, mode: 'CRD' });
    g.addOutput(b.identity(b.reduceSum(b.mul(b.mul(y, y), b.op('Sin', [y])), undefined, false), 'loss'));
    const feeds = { x: floatTensor(Float32Array.from({ length: 2 * 8 * 2 * 3 }, (_, i) => Math.cos(i)), [2, 8, 2, 3]) };
    const [result] = await gradcheck({ model, loss: 'loss', feeds });
    expect(result.maxRelError).toBeLessThan(1e-2);
  });
});
