import { Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { exposeDropoutMask } from '../../../src/autodiff/forward-outputs.js';
import { DataType } from '../../../src/ir/dtype.js';
import { checkGradients, computeGradients, expectClose, makeOpModel, type OpInput } from '../helpers.js';

const x: OpInput = { name: 'x', shape: [4, 8], kind: 'param' };

const ratio = (r: number): OpInput => ({ name: 'ratio', kind: 'const', values: [r] });

const training = (on: boolean): OpInput => ({ name: 'training', kind: 'bool', values: [on ? 1 : 0] });

describe('Dropout gradient', () => {
  it('in training: dx = dy * mask / (1 - ratio), reusing the forward mask', async () => {
    const m = makeOpModel({ op: 'Dropout', outputs: 2, attrs: { seed: 3 }, inputs: [x, ratio(0.25), training(true)] });
    const { grads, fetched } = await computeGradients(m, { fetch: ['y1'] });
    const mask = fetched.y1.data as Uint8Array;
    expect(mask.some((k) => !k)).toBe(true);
    expect(mask.some((k) => k)).toBe(true);
    const R = m.weights[0];
    expectClose(grads.x.data, Array.from(R, (v, i) => (mask[i] ? v / 0.75 : 0)), 1e-6);
  });

  it('without a mask output in training: an error telling the compiler to expose it', async () => {
    const m = makeOpModel({ op: 'Dropout', inputs: [x, ratio(0.5), training(true)] });
    await expect(computeGradients(m)).rejects.toThrow(/Dropout node 'dropout' has no mask output.*exposeDropoutMask\(node\)/);
  });

  it('with the mask exposed, the same model differentiates', async () => {
    const m = makeOpModel({ op: 'Dropout', attrs: { seed: 1 }, inputs: [x, ratio(0.5), training(true)] });
    exposeDropoutMask(m.model.graph.nodes.find((n) => n.opType === 'Dropout')!);
    m.model.graph.toposort();
    const { grads } = await computeGradients(m);
    const kept = Array.from(grads.x.data).filter((v) => v !== 0).length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(32);
  });

  it.each([
    ['ratio 0 in training', [x, ratio(0), training(true)], 17],
    ['training_mode false', [x, ratio(0.5), training(false)], 17],
    ['training_mode absent', [x, ratio(0.5)], 17],
    ['opset 11 (inference-only Dropout)', [x], 11],
  ] as const)('%s: dx = dy, no mask needed', async (_, inputs, opset) => {
    const m = makeOpModel({ op: 'Dropout', opset, attrs: opset === 11 ? { ratio: 0.5 } : {}, inputs: [...inputs] });
    const { grads } = await computeGradients(m);
    expectClose(grads.x.data, m.weights[0], 0);
    await checkGradients(m);
  });

  it('training_mode fed at run time: scaled by the mask when true, identity when false', async () => {
    // x (param) -> Dropout(x, 0.5, training) -> y, mask; loss = sum(y * R)
    const m = makeOpModel({ op: 'Dropout', outputs: 2, attrs: { seed: 5 }, inputs: [x, ratio(0.5), training(true)] });
    const g = m.model.graph;
    const drop = g.nodes.find((n) => n.opType === 'Dropout')!;
    const fed = g.addInput('train').setTensorType(DataType.BOOL, []);
    drop.setInput(2, fed);
    g.removeInitializer(g.requireValue('training'));
    const on = await computeGradients(m, { fetch: ['y1'], feeds: { train: new Tensor('bool', [true], []) } });
    const mask = on.fetched.y1.data as Uint8Array;
    expectClose(on.grads.x.data, Array.from(m.weights[0], (v, i) => (mask[i] ? 2 * v : 0)), 1e-6, 'training');
    const off = await computeGradients(m, { feeds: { train: new Tensor('bool', [false], []) } });
    expectClose(off.grads.x.data, m.weights[0], 1e-6, 'inference');
  });
});
