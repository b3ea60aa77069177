import { describe, it } from 'vitest';
import { checkGradients, computeGradients, expectClose, intInput, makeOpModel, type OpModelSpec, paramX } from '../helpers.js';

describe('Slice', () => {
  it('by hand: step 1 pads dy back with zeros, a negative step scatters in reverse', async () => {
    // y = x[6][1:4]
    const plain = makeOpModel({ op: 'Slice', inputs: [paramX([6]), intInput('starts', [1]), intInput('ends', [4])] });
    const R = plain.weights[0];
    expectClose((await computeGradients(plain)).grads.x.data, [0, R[0], R[1], R[2], 0, 0], 0, 'step 1');
    // y = x[6][5:0:-2] = x[5], x[3], x[1]
    const reversed = makeOpModel({ op: 'Slice', inputs: [paramX([6]), intInput('starts', [5]), intInput('ends', [0]), intInput('axes', [0]), intInput('steps', [-2])] });
    const Q = reversed.weights[0];
    expectClose((await computeGradients(reversed)).grads.x.data, [0, Q[2], 0, Q[1], 0, Q[0]], 0, 'step -2');
  });

  const big = 2 ** 62; // PyTorch's "to the end"
  const cases: [string, OpModelSpec][] = [
    ['two axes, negative start', { op: 'Slice', inputs: [paramX([4, 5]), intInput('starts', [1, -3]), intInput('ends', [3, big]), intInput('axes', [0, 1])] }],
    ['step 2 on a middle axis', { op: 'Slice', inputs: [paramX([2, 5, 3]), intInput('starts', [0]), intInput('ends', [5]), intInput('axes', [1]), intInput('steps', [2])] }],
    ['mixed steps', { op: 'Slice', inputs: [paramX([4, 4]), intInput('starts', [-1, 1]), intInput('ends', [-big, 3]), intInput('axes', [0, -1]), intInput('steps', [-1, 1])] }],
    ['opset 9 (attributes)', { op: 'Slice', opset: 9, attrs: { starts: [1], ends: [3], axes: [1] }, inputs: [paramX([2, 4])] }],
  ];
  it.each(cases)('%s matches central differences', async (_, spec) => {
    await checkGradients(makeOpModel(spec));
  });
});
