import { describe, expect, it } from 'vitest';
import { float } from '../../../src/ir/attributes.js';
import { checkGradients, computeGradients, expectClose, makeOpModel, type OpInput } from '../helpers.js';
import { awayFromKinks, count } from './extra-helpers.js';

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
    const values = awayFromKinks(count(shape), [-2, 2], [-1, 1], 3);
    const m = clipModel({ name: 'x', shape, kind: 'param', values }, -1, 1, opset, 9);
    await checkGradients(m, { label: `opset ${opset}` });
  });
});
