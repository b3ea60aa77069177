import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { checkGradients, computeGradients, expectClose, makeOpModel, type OpInput } from '../helpers.js';
import { buildBackwardOf, sum } from './extra-nn-helpers.js';

describe('Pad gradient', () => {
  it('passes dY back from the region X was copied to, and the rest to the constant (hand computed)', async () => {
    // y = Pad(X [1,1,2,2], pads: one row on top, one column on the right, c) -> [1,1,3,3]
    const m = makeOpModel({
      op: 'Pad',
      inputs: [
        { name: 'X', kind: 'param', shape: [1, 1, 2, 2], values: [1, 2, 3, 4] },
        { name: 'pads', kind: 'int', shape: [8], values: [0, 0, 1, 0, 0, 0, 0, 1] },
        { name: 'c', kind: 'param', shape: [], values: [0.5] },
      ],
    });
    const R = m.weights[0];
    const { grads } = await computeGradients(m);
    expectClose(grads.X.data, [R[3], R[4], R[6], R[7]], 1e-6, 'dX');
    expectClose(grads.c.data, [sum(R) - R[3] - R[4] - R[6] - R[7]], 1e-5, 'dc');
    expect(grads.X.dims).toEqual([1, 1, 2, 2]);
  });

  it('gives zeros to the elements a negative pad cropped away (hand computed)', async () => {
    // y = Pad(X [1,4], pads [0,-1, 0,1]) = [x1, x2, x3, 0]
    const m = makeOpModel({
      op: 'Pad',
      inputs: [
        { name: 'X', kind: 'param', shape: [1, 4] },
        { name: 'pads', kind: 'int', shape: [4], values: [0, -1, 0, 1] },
      ],
    });
    const R = m.weights[0];
    const { grads } = await computeGradients(m);
    expectClose(grads.X.data, [0, R[0], R[1], R[2]], 1e-6, 'dX');
  });

  const cases: { label: string; x: number[]; pads: number[]; opset?: number; axes?: number[]; constant?: boolean }[] = [
    { label: 'spatial pads, opset 11', x: [2, 3, 4, 5], pads: [0, 0, 1, 2, 0, 0, 2, 1], opset: 11 },
    { label: 'every axis + constant, opset 13', x: [2, 3, 3], pads: [1, 0, 2, 0, 1, 1], opset: 13, constant: true },
    { label: 'negative and positive mixed', x: [2, 3, 5, 4], pads: [0, 1, -1, 2, 0, -1, 2, -2], constant: true },
    { label: 'only cropping', x: [3, 6], pads: [-1, -2, 0, -1] },
    { label: 'axes input, opset 18', x: [2, 3, 4, 5], pads: [1, -1, 2, 1], opset: 18, axes: [-1, 1], constant: true },
    { label: 'pads attribute, opset 10', x: [1, 2, 3, 3], pads: [0, 0, 1, 1, 0, 0, 0, 2], opset: 10 },
  ];

  it.each(cases)('passes a central-difference check: $label', async ({ label, x, pads, opset, axes, constant }) => {
    const old = (opset ?? 17) < 11;
    const inputs: OpInput[] = [{ name: 'X', kind: 'param', shape: x }];
    if (!old) {
      inputs.push({ name: 'pads', kind: 'int', shape: [pads.length], values: pads });
      inputs.push(constant || axes ? { name: 'c', kind: constant ? 'param' : 'absent', shape: [], values: constant ? [0.3] : undefined } : { name: 'c', kind: 'absent' });
      if (axes) inputs.push({ name: 'axes', kind: 'int', shape: [axes.length], values: axes });
    }
    const m = makeOpModel({ op: 'Pad', inputs, attrs: old ? { pads } : {}, opset });
    await checkGradients(m, { label, samplesPerParam: 10 });
  });

  it('refuses pads computed at run time, naming the tensor', () => {
    const m = makeOpModel({
      op: 'Pad',
      inputs: [
        { name: 'X', kind: 'param', shape: [1, 4] },
        { name: 'pads', kind: 'int', shape: [4], values: [0, 1, 0, 1] },
      ],
    });
    // pads -> Identity -> Pad: no longer a constant the rule can read
    const g = m.model.graph;
    const pad = g.nodes.find((n) => n.opType === 'Pad')!;
    pad.setInput(1, new GraphBuilder(g).identity(g.requireValue('pads')));
    expect(() => buildBackwardOf(m)).toThrow(/pads '.*' are computed at run time/);
  });

  // reflect, edge and wrap have their own tests (pad-modes.test.ts); a mode ONNX does not define is refused.
  it('refuses modes ONNX does not define, naming the mode', () => {
    const m = makeOpModel({
      op: 'Pad',
      inputs: [
        { name: 'X', kind: 'param', shape: [1, 1, 3, 3] },
        { name: 'pads', kind: 'int', shape: [8], values: [0, 0, 1, 1, 0, 0, 1, 1] },
      ],
      attrs: { mode: 'symmetric' },
    });
    expect(() => buildBackwardOf(m)).toThrow(/Pad node .*'pad'.*Pad mode 'symmetric' is not an ONNX Pad mode/);
  });
});
