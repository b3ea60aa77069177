import { describe, expect, it } from 'vitest';
import { buildBackward } from '../../../src/autodiff/backward.js';
import { gradcheck } from '../../../src/check/gradcheck.js';
import { float } from '../../../src/ir/attributes.js';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { DataType } from '../../../src/ir/dtype.js';
import { newModel } from '../../../src/ir/model.js';
import { floatTensor as tensorProto } from '../../../src/ir/tensor.js';
import { Rng } from '../../../src/util/rng.js';
import { checkGradients, computeGradients, expectClose, makeOpModel, type OpModel } from '../helpers.js';

const X = [-1.5, -0.3, 0.4, 2];

/** `n` values in [-2, 2], none within 0.05 of `kink`. */
function awayFrom(kink: number, n: number): number[] {
  const rng = new Rng(9);
  const out: number[] = [];
  while (out.length < n) {
    const x = rng.uniform(-2, 2);
    if (Math.abs(x - kink) >= 0.05) out.push(x);
  }
  return out;
}

/** y = op(X) for the 4 values above; dX checked against `slope(x) * R` elementwise. */
async function expectSlope(m: OpModel, slope: (x: number) => number, label: string): Promise<void> {
  const R = m.weights[0];
  const { grads } = await computeGradients(m);
  expectClose(grads.X.data, X.map((x, i) => slope(x) * R[i]), 1e-5, label);
}

describe('Sin / Cos / Celu / ThresholdedRelu / Mish gradients', () => {
  it('match the derivatives computed by hand', async () => {
    const one = (op: string, attrs = {}, opset = 17) => makeOpModel({ op, inputs: [{ name: 'X', kind: 'param', shape: [4], values: X }], attrs, opset });
    await expectSlope(one('Sin'), Math.cos, 'Sin');
    await expectSlope(one('Cos'), (x) => -Math.sin(x), 'Cos');
    // Celu alpha 2: 1 for x > 0, e^(x/2) below
    await expectSlope(one('Celu', { alpha: float(2) }), (x) => (x > 0 ? 1 : Math.exp(x / 2)), 'Celu');
    // ThresholdedRelu alpha 0.5: 1 above 0.5, else 0 (0.4 is below the threshold)
    await expectSlope(one('ThresholdedRelu', { alpha: float(0.5) }), (x) => (x > 0.5 ? 1 : 0), 'ThresholdedRelu');
    const mish = (x: number) => {
      const t = Math.tanh(Math.log1p(Math.exp(x)));
      return t + (x / (1 + Math.exp(-x))) * (1 - t * t);
    };
    await expectSlope(one('Mish', {}, 18), mish, 'Mish');
  });

  const cases: { op: string; shape: number[]; attrs?: Record<string, ReturnType<typeof float>>; opset?: number; minAbs?: number }[] = [
    { op: 'Sin', shape: [2, 3, 4] },
    { op: 'Cos', shape: [5, 3] },
    { op: 'Celu', shape: [2, 3, 4], minAbs: 0.05 },
    { op: 'Celu', shape: [4, 5], attrs: { alpha: float(0.5) }, minAbs: 0.05 },
    { op: 'ThresholdedRelu', shape: [3, 5], attrs: { alpha: float(0.3) } },
    { op: 'Mish', shape: [2, 3, 4], opset: 18 },
  ];
  it.each(cases)('passes a central-difference check: $op $shape', async ({ op, shape, attrs, opset, minAbs }) => {
    const n = shape.reduce((a, d) => a * d, 1);
    // ThresholdedRelu's kink is at alpha (0.3): keep the values 0.05 away from it.
    const values = op === 'ThresholdedRelu' ? awayFrom(0.3, n) : undefined;
    const m = makeOpModel({ op, inputs: [{ name: 'X', kind: 'param', shape, range: [-3, 3], minAbs, values }], attrs, opset, seed: 4 });
    await checkGradients(m, { label: `${op} ${JSON.stringify(shape)}` });
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
    const p = g.addInitializer(tensorProto('P', Float32Array.from(values), [4]), { exactName: true });
    const r = g.addInitializer(tensorProto('R', Float32Array.from(R), [4]), { exactName: true });
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
