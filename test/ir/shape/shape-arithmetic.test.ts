// Shape arithmetic as PyTorch's exporters emit it, one small hand-written graph per op: X is float [batch, sequence, 8]
// and each case states by hand the symbolic shape (and, for shape tensors, the contents) the analysis must find;
// then onnxruntime runs the graph at two sizes, and every shape and content must be that expression evaluated.
import { Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { DataType } from '../../../src/ir/dtype.js';
import { newModel } from '../../../src/ir/model.js';
import { inferShapes } from '../../../src/ir/shape/infer.js';
import { substituteDim } from '../../../src/ir/shape/symbolic-dims.js';
import type { Dim, Value } from '../../../src/ir/value.js';
import { modelToBytes } from '../../../src/model-io.js';
import { createSession } from '../../../src/runtime/session.js';

interface Expected {
  shape: Dim[];
  /** The contents of an integer or bool shape tensor, as the analysis must know them (null: not known). */
  values?: Dim[];
}

/** Named values to check, each with what the analysis must say about it. */
type Build = (b: GraphBuilder, x: Value) => Record<string, [Value, Expected]>;

const SIZES = [
  { batch: 2, sequence: 5 },
  { batch: 3, sequence: 4 },
];

const scalar = (b: GraphBuilder, n: number) => b.int64Init(`scalar_${n}`.replace('-', 'minus'), [n], []);
const shapeOf = (b: GraphBuilder, x: Value) => b.op('Shape', [x]);
/** batch and sequence as int64 scalars, as `x.size(0)`, `x.size(1)` export. */
const dimsOf = (b: GraphBuilder, x: Value) => {
  const shape = shapeOf(b, x);
  return { batch: b.op('Gather', [shape, scalar(b, 0)], { axis: 0 }), sequence: b.op('Gather', [shape, scalar(b, 1)], { axis: 0 }) };
};
const vector = (b: GraphBuilder, ...scalars: Value[]) => b.op('Concat', scalars.map((s) => b.unsqueeze(s, [0])), { axis: 0 });

const CASES: [string, Build][] = [
  ['Shape', (b, x) => ({ shape: [shapeOf(b, x), { shape: [3], values: ['batch', 'sequence', 8] }], tail: [b.op('Shape', [x], { start: 1, end: -1 }), { shape: [1], values: ['sequence'] }] })],
  ['Size', (b, x) => ({ size: [b.op('Size', [x]), { shape: [], values: ['8*batch*sequence'] }] })],
  [
    'Gather on a shape',
    (b, x) => ({
      scalar: [b.op('Gather', [shapeOf(b, x), scalar(b, 1)], { axis: 0 }), { shape: [], values: ['sequence'] }],
      vector: [b.op('Gather', [shapeOf(b, x), b.ints([2, -3])], { axis: 0 }), { shape: [2], values: [8, 'batch'] }],
    }),
  ],
  ['Slice on a shape', (b, x) => ({ tail: [b.op('Slice', [shapeOf(b, x), b.ints([-2]), b.ints([2 ** 62])]), { shape: [2], values: ['sequence', 8] }] })],
  [
    'Concat on a shape, then Reshape',
    (b, x) => {
      const target = b.op('Concat', [b.op('Slice', [shapeOf(b, x), b.ints([0]), b.ints([1])]), b.ints([-1])], { axis: 0 });
      return { target: [target, { shape: [2], values: ['batch', -1] }], reshaped: [b.op('Reshape', [x, target]), { shape: ['batch', '8*sequence'] }] };
    },
  ],
  [
    'Unsqueeze and Squeeze on a shape element',
    (b, x) => {
      const unsqueezed = b.unsqueeze(dimsOf(b, x).sequence, [0]);
      return { unsqueezed: [unsqueezed, { shape: [1], values: ['sequence'] }], squeezed: [b.squeeze(unsqueezed, [0]), { shape: [], values: ['sequence'] }] };
    },
  ],
  [
    'int64 Add, Sub, Mul, Div',
    (b, x) => {
      const { batch, sequence } = dimsOf(b, x);
      const tokens = b.mul(batch, sequence);
      return {
        add: [b.add(sequence, scalar(b, 2)), { shape: [], values: ['sequence + 2'] }],
        sub: [b.sub(sequence, scalar(b, 1)), { shape: [], values: ['sequence - 1'] }],
        mul: [tokens, { shape: [], values: ['batch*sequence'] }],
        exact: [b.div(tokens, sequence), { shape: [], values: ['batch'] }],
        inexact: [b.div(sequence, scalar(b, 2)), { shape: [], values: [null] }], // known only for a given length
        size: [b.div(b.op('Size', [x]), scalar(b, 8)), { shape: [], values: ['batch*sequence'] }],
        reshaped: [b.op('Reshape', [x, vector(b, tokens, scalar(b, 8))]), { shape: ['batch*sequence', 8] }],
      };
    },
  ],
  [
    'ConstantOfShape',
    (b, x) => {
      const { batch, sequence } = dimsOf(b, x);
      return { mask: [b.op('ConstantOfShape', [vector(b, batch, sequence)]), { shape: ['batch', 'sequence'] }] };
    },
  ],
  [
    'Range',
    (b, x) => {
      const { sequence } = dimsOf(b, x);
      return {
        positions: [b.op('Range', [scalar(b, 0), sequence, scalar(b, 1)]), { shape: ['sequence'] }],
        shifted: [b.op('Range', [scalar(b, 1), sequence, scalar(b, 1)]), { shape: ['sequence - 1'] }],
      };
    },
  ],
  [
    'Expand',
    (b, x) => {
      const { batch, sequence } = dimsOf(b, x);
      const row = b.floatInit('row', new Float32Array(8).fill(0.5), [1, 8]);
      return { expanded: [b.op('Expand', [row, vector(b, batch, sequence, scalar(b, 1))]), { shape: ['batch', 'sequence', 8] }] };
    },
  ],
  [
    "Where and Equal (TorchScript's expand(batch, -1))",
    (b, x) => {
      const target = vector(b, dimsOf(b, x).batch, scalar(b, -1));
      const isMinusOne = b.op('Equal', [target, b.ints([-1, -1])]);
      const sizes = b.op('Where', [isMinusOne, b.ints([1, 1]), target]);
      const row = b.floatInit('row', new Float32Array(8).fill(0.5), [1, 8]);
      return {
        equal: [isMinusOne, { shape: [2], values: [0, 1] }], // a named dim is at least 1, never -1
        where: [sizes, { shape: [2], values: ['batch', 1] }],
        expanded: [b.op('Expand', [row, sizes]), { shape: ['batch', 8] }],
      };
    },
  ],
  [
    'Equal of symbolic dims',
    (b, x) => {
      const { batch, sequence } = dimsOf(b, x);
      return {
        same: [b.op('Equal', [sequence, sequence]), { shape: [], values: [1] }],
        unknown: [b.op('Equal', [sequence, batch]), { shape: [], values: [null] }],
      };
    },
  ],
  [
    'Cast',
    (b, x) => {
      const int32 = b.op('Cast', [shapeOf(b, x)], { to: DataType.INT32 });
      return {
        int32: [int32, { shape: [3], values: ['batch', 'sequence', 8] }],
        back: [b.op('Cast', [int32], { to: DataType.INT64 }), { shape: [3], values: ['batch', 'sequence', 8] }],
      };
    },
  ],
  [
    'Trilu (a causal mask)',
    (b, x) => {
      const { sequence } = dimsOf(b, x);
      const ones = b.op('ConstantOfShape', [vector(b, sequence, sequence)]);
      return { lower: [b.op('Trilu', [ones], { upper: 0 }), { shape: ['sequence', 'sequence'] }] };
    },
  ],
  [
    'Pad to a fixed length (pads computed from the shape)',
    (b, x) => {
      const missing = b.unsqueeze(b.sub(scalar(b, 16), dimsOf(b, x).sequence), [0]);
      const pads = b.op('Concat', [b.ints([0, 0, 0, 0]), missing, b.ints([0])], { axis: 0 });
      return { pads: [pads, { shape: [6], values: [0, 0, 0, 0, '-sequence + 16', 0] }], padded: [b.op('Pad', [x, pads]), { shape: ['batch', 16, 8] }] };
    },
  ],
  [
    'Reshape with 0 and -1',
    (b, x) => ({
      keepBatch: [b.op('Reshape', [x, b.ints([0, -1])]), { shape: ['batch', '8*sequence'] }],
      heads: [b.op('Reshape', [x, b.ints([0, 0, 2, -1])]), { shape: ['batch', 'sequence', 2, 4] }],
      tokens: [b.op('Reshape', [x, b.ints([-1, 8])]), { shape: ['batch*sequence', 8] }],
      flat: [b.op('Reshape', [x, b.ints([-1])]), { shape: ['8*batch*sequence'] }],
    }),
  ],
  [
    'LSTM (bidirectional) -> GRU -> RNN (bidirectional), stacked as PyTorch exports them',
    (b, x) => {
      const weights = (name: string, dims: number[]) => b.floatInit(name, Float32Array.from({ length: dims.reduce((p, q) => p * q, 1) }, (_, i) => Math.sin(i) * 0.3), dims);
      const timeMajor = b.op('Transpose', [x], { perm: [1, 0, 2] });
      const [lstm, lstmH, lstmC] = b.ops('LSTM', [timeMajor, weights('lstm_w', [2, 20, 8]), weights('lstm_r', [2, 20, 5])], { hidden_size: 5, direction: 'bidirectional' }, 3);
      // Both directions side by side, as PyTorch feeds the next layer: [T, N, 2 * 5].
      const joined = b.op('Reshape', [b.op('Transpose', [lstm], { perm: [0, 2, 1, 3] }), b.ints([0, 0, -1])]);
      const [gru, gruH] = b.ops('GRU', [joined, weights('gru_w', [1, 12, 10]), weights('gru_r', [1, 12, 4])], { hidden_size: 4 }, 2);
      const [rnn, rnnH] = b.ops('RNN', [b.squeeze(gru, [1]), weights('rnn_w', [2, 3, 4]), weights('rnn_r', [2, 3, 3])], { hidden_size: 3, direction: 'bidirectional' }, 2);
      return {
        lstm: [lstm, { shape: ['sequence', 2, 'batch', 5] }],
        lstmH: [lstmH, { shape: [2, 'batch', 5] }],
        lstmC: [lstmC, { shape: [2, 'batch', 5] }],
        joined: [joined, { shape: ['sequence', 'batch', 10] }],
        gru: [gru, { shape: ['sequence', 1, 'batch', 4] }],
        gruH: [gruH, { shape: [1, 'batch', 4] }],
        rnn: [rnn, { shape: ['sequence', 2, 'batch', 3] }],
        rnnH: [rnnH, { shape: [2, 'batch', 3] }],
      };
    },
  ],
];

/** The contents of a fetched integer or bool tensor as numbers. */
const contents = (t: Tensor): number[] => Array.from(t.data as ArrayLike<number | bigint | boolean>, Number);

describe('shape arithmetic on symbolic dims', () => {
  it.each(CASES)('%s', async (_, build) => {
    const model = newModel({ opset: 17 });
    const b = new GraphBuilder(model.graph);
    const x = model.graph.addInput('X').setTensorType(DataType.FLOAT, ['batch', 'sequence', 8]);
    const checks = Object.entries(build(b, x));
    const facts = inferShapes(model.graph);
    for (const [name, [v, want]] of checks) {
      expect(v.shape, `${name}: shape`).toEqual(want.shape);
      if (want.values) expect(facts.get(v), `${name}: contents`).toEqual(want.values);
    }

    for (const [, [v]] of checks) if (!v.isGraphOutput) model.graph.addOutput(v);
    const session = await createSession(modelToBytes(model), { name: 'shape arithmetic' });
    try {
      for (const size of SIZES) {
        const n = size.batch * size.sequence * 8;
        const fetched = await session.run({ X: new Tensor('float32', Float32Array.from({ length: n }, (_, i) => Math.cos(i)), [size.batch, size.sequence, 8]) });
        for (const [name, [v, want]] of checks) {
          const t = fetched[v.name];
          expect([...t.dims], `${name} at ${JSON.stringify(size)}: shape`).toEqual(want.shape.map((d) => substituteDim(d, size)));
          if (want.values) {
            const known = want.values.map((d) => substituteDim(d, size));
            expect(contents(t).map((c, i) => (known[i] === null ? null : c)), `${name} at ${JSON.stringify(size)}: contents`).toEqual(known);
          }
        }
      }
    } finally {
      await session.release();
    }
  });
});

// onnxruntime 1.30's CPU kernels refuse layout 1 ("Batchwise recurrent operations are not supported"), so the
// batch-first layout is checked against the spec's shapes only: X [N, T, F] -> Y [N, T, D, H], Y_h and Y_c [N, D, H]
// (no hidden_size attribute here: the rule reads it from W, [D, gates * H, F]).
it('LSTM, GRU and RNN with layout 1 (batch first)', () => {
  const model = newModel({ opset: 17 });
  const b = new GraphBuilder(model.graph);
  const x = model.graph.addInput('X').setTensorType(DataType.FLOAT, ['batch', 'sequence', 8]);
  const layers = (['LSTM', 'GRU', 'RNN'] as const).map((op) => {
    const gates = { LSTM: 4, GRU: 3, RNN: 1 }[op];
    const w = b.floatInit(`${op}_w`, new Float32Array(2 * gates * 5 * 8), [2, gates * 5, 8]);
    const r = b.floatInit(`${op}_r`, new Float32Array(2 * gates * 25), [2, gates * 5, 5]);
    return b.ops(op, [x, w, r], { layout: 1, direction: 'bidirectional' }, op === 'LSTM' ? 3 : 2);
  });
  inferShapes(model.graph);
  expect(layers.map((outputs) => outputs.map((v) => v.shape))).toEqual([
    [['batch', 'sequence', 2, 5], ['batch', 2, 5], ['batch', 2, 5]],
    [['batch', 'sequence', 2, 5], ['batch', 2, 5]],
    [['batch', 'sequence', 2, 5], ['batch', 2, 5]],
  ]);
});
