import { describe, expect, it } from 'vitest';
import { checkGradients, computeGradients, expectClose, makeOpModel } from '../helpers.js';
import { count, separatedValues } from './extra-helpers.js';

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
    const values = separatedValues(shapes.map(count), 4);
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
    const cond = Array.from({ length: count(sc) }, (_, i) => (i * 7 + 3) % 3 === 0 ? 1 : 0);
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

describe('PRelu gradient', () => {
  it('by hand: dx = dy (x > 0) or slope dy; dslope sums dy x over the negative elements of its channel', async () => {
    const m = makeOpModel({
      op: 'PRelu',
      inputs: [
        { name: 'x', shape: [2, 2], kind: 'param', values: [-1, 2, -3, -0.5] },
        { name: 'slope', shape: [2], kind: 'param', values: [0.1, 0.3] },
      ],
    });
    const { grads } = await computeGradients(m);
    const R = m.weights[0];
    expectClose(grads.x.data, [0.1 * R[0], R[1], 0.1 * R[2], 0.3 * R[3]], 1e-6, 'dx');
    expectClose(grads.slope.data, [-1 * R[0] - 3 * R[2], -0.5 * R[3]], 1e-6, 'dslope');
  });

  it.each([
    [17, [2, 3, 2, 2], [3, 1, 1]], // per channel, as PyTorch exports nn.PReLU(C)
    [11, [2, 3, 2, 2], [3, 1, 1]],
    [17, [2, 3], [3]],
    [13, [4, 2], [1]], // one shared slope
    [17, [2, 3], [2, 3]],
  ])('opset %i x %j, slope %j matches central differences', async (opset, sx, ss) => {
    const m = makeOpModel({
      op: 'PRelu',
      opset,
      seed: 8,
      inputs: [
        { name: 'x', shape: sx, kind: 'param', minAbs: 0.05 },
        { name: 'slope', shape: ss, kind: 'param', range: [0.05, 0.5] },
      ],
    });
    await checkGradients(m, { label: `${JSON.stringify(sx)} ${JSON.stringify(ss)}` });
  });
});
