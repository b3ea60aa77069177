import { describe, expect, it } from 'vitest';
import { checkGradients, computeGradients, expectClose, makeOpModel } from '../helpers.js';

describe('Add/Sub gradient', () => {
  it('hand case: d/da (a - b) . R = R, d/db = -R summed over the broadcast axis', async () => {
    // y = a[2,3] - b[3]; loss = sum(y * R)
    const m = makeOpModel({ op: 'Sub', inputs: [{ name: 'a', shape: [2, 3], kind: 'param' }, { name: 'b', shape: [3], kind: 'param' }] });
    const { grads } = await computeGradients(m);
    const R = m.weights[0];
    expectClose(grads.a.data, R, 1e-6, 'a');
    expect(grads.b.dims).toEqual([3]);
    expectClose(grads.b.data, [0, 1, 2].map((j) => -(R[j] + R[3 + j])), 1e-6, 'b');
  });

  it.each([
    ['Add', [2, 3], [2, 3]],
    ['Add', [2, 3], [1, 3]],
    ['Sub', [4, 1, 3], [2, 1]],
    ['Sub', [], [2, 2]],
  ])('%s %j %j matches central differences', async (op, sa, sb) => {
    const m = makeOpModel({ op, inputs: [{ name: 'a', shape: sa, kind: 'param' }, { name: 'b', shape: sb, kind: 'param' }] });
    await checkGradients(m, { label: `${JSON.stringify(sa)} ${JSON.stringify(sb)}` });
  });
});
