import { Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildBackward } from '../../../src/autodiff/backward.js';
import { gradcheck } from '../../../src/check/gradcheck.js';
import { RegraftError } from '../../../src/errors.js';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { DataType } from '../../../src/ir/dtype.js';
import { newModel, type Model } from '../../../src/ir/model.js';
import { floatTensor } from '../../../src/ir/tensor.js';
import { Rng } from '../../../src/util/rng.js';
import { computeGradients, expectClose, makeOpModel } from '../helpers.js';

const random = (rng: Rng, n: number, scale = 1) => Float32Array.from({ length: n }, () => rng.uniform(-scale, scale));

/**
 * The 2-layer MLP: X[N,4] -> MatMul W1[4,5] -> Add b1 -> Relu -> MatMul W2[5,3] -> Add b2 -> pred;
 * loss = ReduceMean((pred - T)^2). X and T are fed (data); N is symbolic.
 */
function mlp(): { model: Model; feeds: Record<string, Tensor> } {
  const rng = new Rng(11);
  const model = newModel({ opset: 17 });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const X = g.addInput('X').setTensorType(DataType.FLOAT, ['N', 4]);
  const T = g.addInput('T').setTensorType(DataType.FLOAT, ['N', 3]);
  const W1 = b.floatInit('W1', random(rng, 20), [4, 5]);
  const b1 = b.floatInit('b1', random(rng, 5, 0.5), [5]);
  const W2 = b.floatInit('W2', random(rng, 15), [5, 3]);
  const b2 = b.floatInit('b2', random(rng, 3, 0.5), [3]);
  const h = b.op('Relu', [b.add(b.op('MatMul', [X, W1]), b1)], {}, { name: 'relu' });
  const pred = b.add(b.op('MatMul', [h, W2]), b2);
  const err = b.sub(pred, T);
  const loss = b.op('ReduceMean', [b.mul(err, err)], { keepdims: 0 }, { output: 'loss' });
  g.addOutput(loss);
  const feeds = { X: new Tensor('float32', random(rng, 24, 2), [6, 4]), T: new Tensor('float32', random(rng, 18), [6, 3]) };
  return { model, feeds };
}

describe('backward driver', () => {
  it('sums the contributions of a value used twice: y = x * x gives 2x dy', async () => {
    const model = newModel({ opset: 17 });
    const b = new GraphBuilder(model.graph);
    const x = model.graph.addInitializer(floatTensor('x', [1.5, -2, 0.25], [3]), { exactName: true });
    const R = b.floatInit('R', [1, 2, 3], [3]);
    model.graph.addOutput(b.op('ReduceSum', [b.mul(b.mul(x, x), R)], { keepdims: 0 }, { output: 'loss' }));
    const m = { model, feeds: {}, params: ['x'], loss: 'loss', values: {}, weights: [], op: 'x*x' };
    const { grads, model: built } = await computeGradients(m);
    expectClose(grads.x.data, [2 * 1.5 * 1, 2 * -2 * 2, 2 * 0.25 * 3], 1e-6);
    // Two contributions are summed by one Add (three or more by one Sum).
    expect(built.graph.nodes.filter((n) => n.opType === 'Add' && n.name.startsWith('grad/'))).toHaveLength(1);
  });

  it('names gradients <param>_grad and computes nothing for the data input', () => {
    const { model } = mlp();
    const g = model.graph;
    const params = ['W1', 'b1', 'W2', 'b2'].map((n) => g.requireValue(n));
    const { grads, nodes, unused } = buildBackward(model, { loss: g.requireValue('loss'), wrt: params });
    expect(unused).toEqual([]);
    expect([...grads.values()].map((v) => v.name)).toEqual(['W1_grad', 'b1_grad', 'W2_grad', 'b2_grad']);
    // dX = dH W1^T would be the only backward use of W1; X and T reach backward nodes only as operands of dW1.
    const readers = (name: string) => nodes.filter((n) => n.inputs.some((v) => v?.name === name)).map((n) => n.opType);
    expect(readers('W1')).toEqual([]);
    expect(readers('T')).toEqual([]);
    expect(readers('X')).toEqual(['Transpose']); // X^T for dW1 = X^T dH1
    // Shapes are static except for the batch N: the one Shape node is ReduceMean's (spreading dy over [N, 3]);
    // the bias gradients sum over N with constant axes.
    const shapeReads = nodes.filter((n) => n.opType === 'Shape').map((n) => n.inputs[0]!.producer?.opType);
    expect(shapeReads).toEqual(['Mul']);
  });

  it('the 2-layer MLP matches central differences (~1e-3 relative)', async () => {
    const { model, feeds } = mlp();
    const results = await gradcheck({ model, loss: 'loss', feeds, params: ['W1', 'b1', 'W2', 'b2'], eps: 1e-2, samplesPerParam: 8 });
    for (const r of results) expect(r.maxRelError, `${r.param}: ${JSON.stringify(r)}`).toBeLessThan(2e-3);
  });

  it('a missing rule is an error naming the op, the node and the path to the loss', () => {
    // x -> Mod(fmod) -> y -> Mul(R) -> ReduceSum -> loss (Mod has no gradient rule)
    const m = makeOpModel({
      op: 'Mod',
      inputs: [{ name: 'x', shape: [3], kind: 'param' }, { name: 'd', shape: [], kind: 'const', values: [0.7] }],
      attrs: { fmod: 1 },
      outputShapes: [[3]],
    });
    const g = m.model.graph;
    const err = (() => {
      try {
        buildBackward(m.model, { loss: g.requireValue('loss'), wrt: [g.requireValue('x')] });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(RegraftError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^no gradient rule for Mod node 'mod' on the path Mod node 'mod' -> Mul node .* -> loss 'loss'/);
    expect(msg).toContain('src/autodiff/rules/');
  });
});
