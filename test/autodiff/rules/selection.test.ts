import { describe, expect, it } from 'vitest';
import { buildBackward } from '../../../src/autodiff/backward.js';
import { float } from '../../../src/ir/attributes.js';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { newModel } from '../../../src/ir/model.js';
import { floatTensor, numel } from '../../../src/ir/tensor.js';
import { awayFromKinks, checkGradients, computeGradients, expectClose, makeOpModel, type OpInput, type OpModel, separatedValues } from '../helpers.js';

describe('Max and Min gradients', () => {
  it('Max by hand: each element\'s gradient goes to the larger input; a tie goes to the first input', async () => {
    const m = makeOpModel({
      op: 'Max',
      inputs: [
        { name: 'a', shape: [3], kind: 'param', values: [1, 2, 3] },
        { name: 'b', shape: [3], kind: 'param', values: [1, 5, 0] },
      ],
    });
    const { grads } = await computeGradients(m);
    const R = m.weights[0];
    expectClose(grads.a.data, [R[0], 0, R[2]], 1e-6, 'da');
    expectClose(grads.b.data, [0, R[1], 0], 1e-6, 'db');
  });

  it('Min by hand with three broadcast inputs: a scalar winner collects the sum of its elements\' gradients', async () => {
    // min over a = [[0, 4], [2, -1]], b = [1, 3] (rows), c = 2.5 (scalar): the winners are a, c / b, a
    const m = makeOpModel({
      op: 'Min',
      inputs: [
        { name: 'a', shape: [2, 2], kind: 'param', values: [0, 4, 2, -1] },
        { name: 'b', shape: [2], kind: 'param', values: [1, 3] },
        { name: 'c', shape: [], kind: 'param', values: [2.5] },
      ],
    });
    const { grads } = await computeGradients(m);
    const R = m.weights[0];
    expectClose(grads.a.data, [R[0], 0, 0, R[3]], 1e-6, 'da');
    expectClose(grads.b.data, [R[2], 0], 1e-6, 'db');
    expectClose(grads.c.data, [R[1]], 1e-6, 'dc');
    expect(grads.c.dims).toEqual([]);
  });

  it('a single-input Max passes the gradient through', async () => {
    const m = makeOpModel({ op: 'Max', inputs: [{ name: 'a', shape: [3], kind: 'param' }] });
    const { grads } = await computeGradients(m);
    expectClose(grads.a.data, m.weights[0], 1e-6);
  });

  it.each([
    ['Max', 17, [[2, 3], [2, 3]]],
    ['Max', 17, [[2, 3], [3]]],
    ['Min', 13, [[4, 1, 3], [2, 1], []]],
    ['Max', 11, [[2, 1, 3], [1, 4, 1], [3]]], // ReduceSum axes as an attribute
    ['Min', 11, [[3, 2], [1, 2]]],
  ])('%s opset %i %j matches central differences (inputs without ties)', async (op, opset, shapes) => {
    const values = separatedValues(shapes.map(numel), 4);
    const names = ['a', 'b', 'c'];
    const m = makeOpModel({ op, opset, inputs: shapes.map((shape, i) => ({ name: names[i], shape, kind: 'param' as const, values: values[i] })) });
    await checkGradients(m, { label: JSON.stringify(shapes) });
  });
});

describe('Where gradient', () => {
  it('by hand: X (on) collects dz where the condition holds, Y (off, broadcast) the rest, summed', async () => {
    const m = makeOpModel({
      op: 'Where',
      inputs: [
        { name: 'cond', shape: [2, 2], kind: 'bool', values: [1, 0, 0, 0] },
        { name: 'on', shape: [2, 2], kind: 'param' },
        { name: 'off', shape: [2], kind: 'param' },
      ],
    });
    const { grads } = await computeGradients(m);
    const R = m.weights[0];
    expectClose(grads.on.data, [R[0], 0, 0, 0], 1e-6, 'd on');
    expectClose(grads.off.data, [R[2], R[1] + R[3]], 1e-6, 'd off');
  });

  it('computes no gradient for a fed input', async () => {
    const m = makeOpModel({
      op: 'Where',
      inputs: [
        { name: 'cond', shape: [3], kind: 'bool', values: [1, 0, 1] },
        { name: 'on', shape: [3], kind: 'param' },
        { name: 'data', shape: [3], kind: 'input' },
      ],
    });
    const { grads, model } = await computeGradients(m);
    expectClose(grads.on.data, [m.weights[0][0], 0, m.weights[0][2]], 1e-6);
    expect(model.graph.nodes.filter((n) => n.opType === 'Where')).toHaveLength(2); // forward + dx only
  });

  it.each([
    [17, [2, 3], [2, 3], [2, 3]],
    [17, [2, 3], [3], [2, 1]],
    [16, [1, 3], [2, 3], []],
    [11, [2, 1, 3], [4, 1], [1]],
  ])('opset %i cond %j, X %j, Y %j matches central differences', async (opset, sc, sx, sy) => {
    const cond = Array.from({ length: numel(sc) }, (_, i) => (i * 7 + 3) % 3 === 0 ? 1 : 0);
    const m = makeOpModel({
      op: 'Where',
      opset,
      seed: 6,
      inputs: [
        { name: 'cond', shape: sc, kind: 'bool', values: cond },
        { name: 'on', shape: sx, kind: 'param' },
        { name: 'off', shape: sy, kind: 'param' },
      ],
    });
    await checkGradients(m, { label: `opset ${opset}` });
  });
});

const bound = (name: string, value: number | undefined): OpInput =>
  value === undefined ? { name, kind: 'absent' } : { name, shape: [], kind: 'const', values: [value] };

/** Clip at opset 11+ (bounds as inputs) or opsets 9-10 (bounds as attributes; the backward pass needs opset 9+); undefined = unbounded. */
function clipModel(x: OpInput, lo: number | undefined, hi: number | undefined, opset: number, seed?: number) {
  if (opset >= 11) {
    const inputs = [x, bound('lo', lo), bound('hi', hi)];
    while (inputs[inputs.length - 1].kind === 'absent') inputs.pop(); // trailing optional inputs are simply left off
    return makeOpModel({ op: 'Clip', opset, seed, inputs });
  }
  const attrs = { min: lo === undefined ? undefined : float(lo), max: hi === undefined ? undefined : float(hi) };
  return makeOpModel({ op: 'Clip', opset, seed, attrs, inputs: [x] });
}

const HAND = [-2, -0.5, 0.3, 1.5];

describe('Clip gradient', () => {
  it.each([
    [13, -1, 1, [0, 1, 1, 0]],
    [11, -1, undefined, [0, 1, 1, 1]],
    [17, undefined, 1, [1, 1, 1, 0]],
    [17, undefined, undefined, [1, 1, 1, 1]],
    [10, -1, 1, [0, 1, 1, 0]],
    [9, undefined, 0, [1, 1, 0, 0]],
  ])('opset %i, bounds [%s, %s]: dx = dy inside, 0 outside, by hand', async (opset, lo, hi, pass) => {
    const m = clipModel({ name: 'x', shape: [4], kind: 'param', values: HAND }, lo, hi, opset);
    const { grads } = await computeGradients(m);
    expectClose(grads.x.data, pass.map((p, i) => p * m.weights[0][i]), 1e-6);
  });

  it('gives the bounds no gradient even when they are trainable', async () => {
    const m = makeOpModel({
      op: 'Clip',
      inputs: [
        { name: 'x', shape: [4], kind: 'param', values: HAND },
        { name: 'lo', shape: [], kind: 'param', values: [-1] },
        { name: 'hi', shape: [], kind: 'param', values: [1] },
      ],
    });
    const { grads } = await computeGradients(m, { params: ['x', 'lo', 'hi'] });
    expect(Object.keys(grads).sort()).toEqual(['x']);
  });

  it.each([
    [13, [6]],
    [13, [2, 3, 4]],
    [10, [2, 3, 4]],
  ])('opset %i %j matches central differences (inputs away from the bounds)', async (opset, shape) => {
    const values = awayFromKinks(numel(shape), [-2, 2], [-1, 1], 3);
    const m = clipModel({ name: 'x', shape, kind: 'param', values }, -1, 1, opset, 9);
    await checkGradients(m, { label: `opset ${opset}` });
  });
});

describe('Trilu gradient', () => {
  it('masks dY like the forward op (hand computed)', async () => {
    // X [3, 3], upper with k = 1: only (0,1), (0,2), (1,2) pass
    const m = makeOpModel({
      op: 'Trilu',
      inputs: [
        { name: 'X', kind: 'param', shape: [3, 3] },
        { name: 'k', kind: 'int', shape: [], values: [1] },
      ],
      attrs: { upper: 1 },
      opset: 14,
    });
    const R = m.weights[0];
    const kept = new Set([1, 2, 5]);
    expectClose((await computeGradients(m)).grads.X.data, Array.from(R, (r, i) => (kept.has(i) ? r : 0)), 1e-6, 'dX');
  });

  it.each([
    { x: [3, 4], upper: 1, k: undefined },
    { x: [2, 4, 3], upper: 0, k: undefined },
    { x: [2, 3, 5], upper: 1, k: -1 },
    { x: [4, 4], upper: 0, k: 2 },
  ])('passes a central-difference check: $x upper $upper k $k', async ({ x, upper, k }) => {
    const inputs = [{ name: 'X', kind: 'param' as const, shape: x }, ...(k === undefined ? [] : [{ name: 'k', kind: 'int' as const, shape: [], values: [k] }])];
    await checkGradients(makeOpModel({ op: 'Trilu', inputs, attrs: { upper }, opset: 14 }), { label: JSON.stringify({ x, upper, k }) });
  });
});

describe('Hardmax gradient', () => {
  it('is zero: the parameter gets no gradient through it, and other paths still differentiate', async () => {
    const alone = makeOpModel({ op: 'Hardmax', inputs: [{ name: 'P', kind: 'param', shape: [2, 3] }], opset: 13 });
    const g = alone.model.graph;
    const { grads, unused } = buildBackward(alone.model, { loss: g.requireValue('loss'), wrt: [g.requireValue('P')] });
    expect(grads.size).toBe(0);
    expect(unused.map((v) => v.name)).toEqual(['P']);
  });

  it('contributes nothing next to a differentiable path: y = Hardmax(P) * P gives dP = Hardmax(P) * R', async () => {
    const model = newModel({ opset: 13 });
    const g = model.graph;
    const b = new GraphBuilder(g);
    const values = [0.2, 1.5, -0.3, 2, -1, 0.4];
    const R = [0.5, -1, 2, 0.25, 1.5, -0.75];
    const p = g.addInitializer(floatTensor('P', Float32Array.from(values), [2, 3]), { exactName: true });
    const r = g.addInitializer(floatTensor('R', Float32Array.from(R), [2, 3]), { exactName: true });
    const y = b.mul(b.op('Hardmax', [p], { axis: 1 }), p);
    g.addOutput(b.identity(b.reduceSum(b.mul(y, r), undefined, false), 'loss'));
    const m: OpModel = { model, feeds: {}, params: ['P'], loss: 'loss', values: {}, weights: [Float32Array.from(R)], op: 'Hardmax' };
    // row maxima at columns 1 and 0
    expectClose((await computeGradients(m)).grads.P.data, [0, -1, 0, 0.25, 0, 0], 1e-6, 'dP');
  });
});
