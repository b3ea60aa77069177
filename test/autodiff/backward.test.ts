import { Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildBackward, checkRuleResult } from '../../src/autodiff/backward.js';
import { gradcheck } from '../../src/check/gradcheck.js';
import { RegraftError } from '../../src/errors.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/dtype.js';
import { newModel, type Model } from '../../src/ir/model.js';
import { floatTensor } from '../../src/ir/tensor.js';
import { floatTensor as ortFloat, int64Tensor } from '../../src/runtime/tensors.js';
import { Rng } from '../../src/util/rng.js';
import { computeGradients, distinctValues, expectClose, makeOpModel, type OpModel } from './helpers.js';

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

describe('ops without a gradient (Floor, Sign, Shape, comparisons)', () => {
  it('contribute nothing, and the paths around them still differentiate', async () => {
    // y = Mul(Floor(P), P) + Mul(Sign(P), P) + Where(Less(P, 0), P, 0) * Cast(Shape(P)[0]);  loss = sum(y * R)
    // dP = (floor(P) + sign(P) + 2 * [P < 0]) * R
    const model = newModel({ opset: 17 });
    const g = model.graph;
    const b = new GraphBuilder(g);
    const values = [-1.7, -0.2, 0.6, 2.4];
    const R = [0.5, -1, 2, 0.25];
    const p = g.addInitializer(floatTensor('P', Float32Array.from(values), [4]), { exactName: true });
    const r = g.addInitializer(floatTensor('R', Float32Array.from(R), [4]), { exactName: true });
    const n = b.op('Cast', [b.op('Gather', [b.op('Shape', [p]), b.ints([0])], { axis: 0 })], { to: DataType.FLOAT });
    const negatives = b.mul(b.op('Where', [b.op('Less', [p, b.scalar(0)]), p, b.scalar(0)]), b.div(n, b.scalar(2)));
    const y = b.add(b.add(b.mul(b.op('Floor', [p]), p), b.mul(b.op('Sign', [p]), p)), negatives);
    g.addOutput(b.identity(b.reduceSum(b.mul(y, r), undefined, false), 'loss'));
    const m: OpModel = { model, feeds: {}, params: ['P'], loss: 'loss', values: {}, weights: [Float32Array.from(R)], op: 'Floor/Sign/Shape/Less' };
    const { grads, model: backward } = await computeGradients(m);
    const expected = values.map((v, i) => (Math.floor(v) + Math.sign(v) + (v < 0 ? 2 : 0)) * R[i]);
    expectClose(grads.P.data, expected, 1e-5, 'dP');
    // None of them was differentiated: no rule was asked for Floor, Sign, Shape or Less.
    expect(backward.graph.nodes.filter((node) => node.name.startsWith('grad/') && ['Floor', 'Sign', 'Less'].includes(node.opType))).toHaveLength(0);
    const [check] = await gradcheck({ model, loss: 'loss', feeds: {} });
    expect(check.maxRelError).toBeLessThan(1e-2);
  });

  it.each(['Floor', 'Ceil', 'Round', 'Sign'])('%s alone on the path gives the parameter no gradient', (op) => {
    // loss = sum(op(P) * R): P's gradient is zero (reported unused), not an error
    const m = makeOpModel({ op, inputs: [{ name: 'P', kind: 'param', shape: [3] }] });
    const g = m.model.graph;
    const { grads, unused } = buildBackward(m.model, { loss: g.requireValue('loss'), wrt: [g.requireValue('P')] });
    expect(grads.size).toBe(0);
    expect(unused.map((v) => v.name)).toEqual(['P']);
  });
});

describe('NN rules composed', () => {
  it('differentiate a small CNN end to end (static shapes flow through the NN shape rules)', async () => {
    // x [2,1,6,6] -> Conv(W1,b1,pads 1) -> BatchNormalization(train) -> MaxPool(2,2) -> Conv(W2, stride 2, group 1)
    //   -> AveragePool(2, pads 1) -> GlobalAveragePool -> Flatten -> SoftmaxCrossEntropyLoss(labels) = loss
    const model = newModel({ opset: 17 });
    const g = model.graph;
    const b = new GraphBuilder(g);
    const rng = new Rng(11);
    const param = (name: string, dims: number[], lo = -1, hi = 1) => {
      const data = Float32Array.from({ length: dims.reduce((a, n) => a * n, 1) }, () => rng.uniform(lo, hi));
      return g.addInitializer(floatTensor(name, data, dims), { exactName: true });
    };
    const x = g.addInput('x').setTensorType(DataType.FLOAT, [2, 1, 6, 6]);
    const labels = g.addInput('labels').setTensorType(DataType.INT64, [2]);
    const h1 = b.op('Conv', [x, param('W1', [3, 1, 3, 3]), param('b1', [3])], { pads: [1, 1, 1, 1] });
    const [h2, runningMean, runningVar] = b.ops('BatchNormalization', [h1, param('gamma', [3], 0.5, 1.5), param('beta', [3]), param('mean', [3]), param('var', [3], 0.5, 1)], { training_mode: 1 }, 3);
    const h3 = b.op('MaxPool', [h2], { kernel_shape: [2, 2], strides: [2, 2] });
    const h4 = b.op('Conv', [h3, param('W2', [4, 3, 2, 2])], { strides: [2, 2], pads: [0, 0, 1, 1] });
    const h5 = b.op('AveragePool', [h4], { kernel_shape: [2, 2], pads: [1, 1, 0, 0] });
    const logits = b.op('Flatten', [b.op('GlobalAveragePool', [h5])]);
    g.addOutput(b.op('SoftmaxCrossEntropyLoss', [logits, labels], {}, { output: 'loss' }));
    g.addOutput(runningMean);
    g.addOutput(runningVar);

    const feeds = {
      x: ortFloat(Float32Array.from(distinctValues(72, 7)), [2, 1, 6, 6]),
      labels: int64Tensor(BigInt64Array.from([1n, 3n]), [2]),
    };
    const results = await gradcheck({ model, loss: 'loss', feeds, params: ['W1', 'b1', 'gamma', 'beta', 'W2'], eps: 1e-3, samplesPerParam: 10 });
    expect(results.map((r) => r.param)).toEqual(['W1', 'b1', 'gamma', 'beta', 'W2']);
    for (const r of results) {
      // Training-mode BatchNormalization subtracts the batch mean, so the bias before it has no effect: its gradient
      // is zero (up to rounding) and only the absolute error means anything.
      if (r.param === 'b1') expect(r.maxAbsError, r.param).toBeLessThan(5e-4);
      else expect(r.maxRelError, r.param).toBeLessThan(2e-2);
    }
  });
});

describe('the checks the driver makes of every rule (as tfjs\'s tape does)', () => {
  // x [2, 3] -> Relu 'r' -> y; the rule's results are checked before they are used.
  function reluNode() {
    const model = newModel({ opset: 17 });
    const g = model.graph;
    const b = new GraphBuilder(g);
    const x = g.addInput('x').setTensorType(DataType.FLOAT, [2, 3]);
    const node = b.node('Relu', [x], {}, { name: 'r' });
    return { b, x, node };
  }
  const registered = { rule: { opTypes: ['Relu'], grad: () => [] }, family: 'activations' };

  it('refuses a gradient for an input the node does not have, naming the node and the rule', () => {
    const { b, x, node } = reluNode();
    const g = b.op('Neg', [x]);
    expect(() => checkRuleResult(node, registered, [g, g], new Map())).toThrow(
      "Relu node 'r': the Relu gradient rule (src/autodiff/rules/activations.ts) returned a gradient for input 1, but the node has 1 inputs",
    );
    // Trailing nulls (rules of ops with optional inputs return fixed-length lists) are fine.
    expect(() => checkRuleResult(node, registered, [g, null, undefined], new Map([[g, { shape: [2, 3] }]]))).not.toThrow();
  });

  it('refuses a gradient whose static shape is not its input\'s', () => {
    const { b, x, node } = reluNode();
    const g = b.op('Transpose', [x]);
    expect(() => checkRuleResult(node, registered, [g], new Map([[g, { shape: [3, 2] }]]))).toThrow(
      "Relu node 'r': the Relu gradient rule (src/autodiff/rules/activations.ts) gave input 0 ('x', shape [2,3]) a gradient of shape [3,2]",
    );
    // A symbolic or unknown dim is not compared.
    expect(() => checkRuleResult(node, registered, [g], new Map([[g, { shape: ['N', 2] }]]))).not.toThrow();
    expect(() => checkRuleResult(node, registered, [g], new Map())).not.toThrow();
  });
});
