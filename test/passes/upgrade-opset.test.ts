// Opset upgrade, op by op: each adapter on a one-node model, checked by running the old-opset original and the
// upgraded model in onnxruntime on the same inputs; plus every refusal.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { DataType, float, floats, GraphBuilder, newModel, type Model, type Value } from '../../src/ir/index.js';
import { validateModel } from '../../src/ir/index.js';
import { modelFromBytes, modelToBytes } from '../../src/model-io.js';
import { upgradeOpset } from '../../src/passes/upgrade-opset.js';
import { verifyEquivalent } from '../../src/check/equivalence.js';
import { Rng } from '../../src/util/rng.js';

interface OneOp {
  opset: number;
  irVersion?: number;
  /** Declared shape of the float input `x`. */
  x: number[];
  build(b: GraphBuilder, x: Value, rng: Rng): Value;
}

function oneOp(spec: OneOp): Model {
  const model = newModel({ opset: spec.opset, irVersion: spec.irVersion ?? 3 });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const x = g.addInput('x').setTensorType(DataType.FLOAT, spec.x);
  const y = spec.build(b, x, new Rng(5));
  y.setTensorType(DataType.FLOAT, undefined);
  g.addOutput(y);
  return model;
}

const copy = (m: Model): Model => modelFromBytes(modelToBytes(m), 'copy');
const randomInit = (b: GraphBuilder, rng: Rng, name: string, dims: number[]): Value =>
  b.floatInit(name, Array.from({ length: dims.reduce((a, d) => a * d, 1) }, () => rng.normal()), dims);

/** Upgrades a copy to `target`, validates it and checks onnxruntime gives the same outputs as the original. */
async function upgradesFaithfully(original: Model, target = 17): Promise<string[]> {
  const upgraded = copy(original);
  const report = upgradeOpset(upgraded, target);
  expect(upgraded.graph.opset('')).toBe(target);
  expect(validateModel(upgraded)).toEqual([]);
  const verify = await verifyEquivalent(original, upgraded, { seed: 3 });
  expect(verify.ok, JSON.stringify(verify.outputs)).toBe(true);
  return report.rewritten;
}

describe('upgradeOpset: each change keeps what the node computes (onnxruntime, old vs new)', () => {
  it('legacy broadcast at an inner axis (opset 6): B gets trailing 1-dims (checked by hand: onnxruntime has no Add-6)', async () => {
    const m = oneOp({ opset: 6, x: [2, 3, 4, 5], build: (b, x) => b.op('Add', [x, b.floatInit('B', Array.from({ length: 12 }, (_, i) => i), [3, 4])], { broadcast: 1, axis: 1 }) });
    expect(upgradeOpset(m).rewritten).toEqual([expect.stringMatching(/second input aligned at axis 1 \(Unsqueeze 2\)$/)]);
    const session = await ort.InferenceSession.create(modelToBytes(m));
    const x = Float32Array.from({ length: 120 }, (_, i) => i * 100);
    const y = (await session.run({ x: new ort.Tensor('float32', x, [2, 3, 4, 5]) }))[m.graph.outputs[0].name].data as Float32Array;
    // Legacy semantics: y[n,c,h,w] = x[n,c,h,w] + B[c,h].
    const want = Float32Array.from(x, (v, i) => v + (Math.floor(i / 5) % 12));
    expect(Array.from(y)).toEqual(Array.from(want));
    await session.release();
  });

  it('Softmax over an inner axis (opset 11 flattens the trailing dims) is written out; the last axis stays one node', async () => {
    const inner = oneOp({ opset: 11, x: [2, 3, 4], build: (b, x) => b.op('Softmax', [x], { axis: 1 }) });
    expect(await upgradesFaithfully(inner)).toEqual([expect.stringContaining('Flatten -> Softmax(axis=1) -> Reshape')]);
    const last = oneOp({ opset: 11, x: [2, 3, 4], build: (b, x) => b.op('LogSoftmax', [x], { axis: 2 }) });
    expect(await upgradesFaithfully(last)).toEqual([expect.stringContaining('axis 2 is the last axis')]);
  });

  it('Upsample (opset 7 scales attribute, opset 9 scales input) becomes Resize, nearest and linear', async () => {
    const v7 = oneOp({ opset: 7, x: [1, 2, 3, 3], build: (b, x) => b.op('Upsample', [x], { scales: floats([1, 1, 2, 3]), mode: 'nearest' }) });
    expect(await upgradesFaithfully(v7)).toEqual([expect.stringContaining('written as Resize (nearest, asymmetric)')]);
    const v9 = oneOp({ opset: 9, x: [1, 2, 3, 3], build: (b, x) => b.op('Upsample', [x, b.floatInit('scales', [1, 1, 2, 2], [4])], { mode: 'linear' }) });
    expect(await upgradesFaithfully(v9)).toEqual([expect.stringContaining('written as Resize (linear, asymmetric)')]);
  });

  it('Resize-10 gains the roi slot and asymmetric coordinates', async () => {
    const m = oneOp({ opset: 10, x: [1, 1, 3, 4], build: (b, x) => b.op('Resize', [x, b.floatInit('scales', [1, 1, 2, 1.5], [4])], { mode: 'nearest' }) });
    expect(await upgradesFaithfully(m)).toEqual([expect.stringContaining('roi input added')]);
  });

  it('attributes that became inputs: Slice, Pad (with a value), Clip (max only), TopK, Squeeze/Unsqueeze, ReduceSum, Split, Dropout', async () => {
    const ops: [string, OneOp][] = [
      ['Slice', { opset: 9, x: [4, 5], build: (b, x) => b.op('Slice', [x], { starts: [1, 0], ends: [3, 100], axes: [0, 1] }) }],
      ['Pad', { opset: 9, x: [2, 3], build: (b, x) => b.op('Pad', [x], { pads: [0, 1, 1, 0], value: float(1.5) }) }],
      ['Clip', { opset: 9, x: [2, 3], build: (b, x) => b.op('Clip', [x], { max: float(0.25) }) }],
      ['TopK', { opset: 9, x: [3, 5], build: (b, x) => b.ops('TopK', [x], { k: 2 }, 2)[0] }],
      ['Squeeze', { opset: 11, x: [2, 1, 3], build: (b, x) => b.op('Unsqueeze', [b.op('Squeeze', [x], { axes: [1] })], { axes: [0] }) }],
      ['ReduceSum', { opset: 11, x: [2, 3, 4], build: (b, x) => b.op('ReduceSum', [x], { axes: [1], keepdims: 0 }) }],
      ['Split', { opset: 11, x: [2, 5], build: (b, x) => b.ops('Split', [x], { axis: 1, split: [2, 3] }, 2)[1] }],
      ['Dropout', { opset: 9, x: [2, 3], build: (b, x) => b.op('Dropout', [x], { ratio: float(0.3) }) }],
    ];
    for (const [op, spec] of ops) {
      const rewritten = await upgradesFaithfully(oneOp(spec));
      expect(rewritten.length, op).toBeGreaterThan(0);
      expect(rewritten.join('; '), op).toMatch(/moved to (an input|inputs)/);
    }
  });

  it('to opset 18: reductions take axes as inputs and an even Split names its number of outputs', async () => {
    const mean = oneOp({ opset: 13, x: [2, 3, 4], build: (b, x) => b.op('ReduceMean', [x], { axes: [2] }) });
    expect(await upgradesFaithfully(mean, 18)).toEqual([expect.stringContaining('axes [2] moved to an input')]);
    const split = oneOp({ opset: 13, x: [2, 6], build: (b, x) => b.ops('Split', [x], { axis: 1 }, 3)[2] });
    expect(await upgradesFaithfully(split, 18)).toEqual([expect.stringContaining('num_outputs 3')]);
  });

  it('BatchNormalization: test mode sheds unread statistics; training mode (statistics outputs) becomes training_mode=1', async () => {
    const bn = (opset: number, outputs: number, attrs: Record<string, number>) =>
      oneOp({
        opset,
        x: [4, 3, 5],
        build: (b, x, rng) => {
          const p = (name: string) => randomInit(b, rng, name, [3]);
          return b.ops('BatchNormalization', [x, p('scale'), p('bias'), p('mean'), b.floatInit('var', [0.5, 1, 2], [3])], attrs, outputs)[0];
        },
      });
    // Opset 7-13: five outputs mean batch statistics; onnxruntime runs both forms.
    expect(await upgradesFaithfully(bn(7, 5, { spatial: 1 }))).toEqual([
      expect.stringContaining('dropped spatial'),
      expect.stringContaining('training mode (statistics outputs) written as training_mode=1'),
    ]);
    expect(await upgradesFaithfully(bn(9, 1, {}))).toEqual([]);
    // Opset 6 (no onnxruntime kernel): is_test=1 is inference whatever the outputs.
    const test6 = bn(6, 5, { is_test: 1 });
    expect(upgradeOpset(test6).rewritten).toEqual([expect.stringContaining('dropped is_test and 4 unread statistics outputs')]);
    expect(test6.graph.nodes.find((n) => n.opType === 'BatchNormalization')!.outputs).toHaveLength(1);
    expect(() => upgradeOpset(bn(6, 1, {}))).toThrow(/runs in training mode \(is_test=0\) without statistics outputs, which opset 7 cannot express; set is_test=1 for inference$/);
  });

  it('LSTM (opset 9) upgrades unchanged', async () => {
    const m = oneOp({ opset: 9, x: [4, 2, 3], build: (b, x, rng) => b.ops('LSTM', [x, randomInit(b, rng, 'W', [1, 8, 3]), randomInit(b, rng, 'R', [1, 8, 2])], { hidden_size: 2 }, 1)[0] });
    expect(await upgradesFaithfully(m)).toEqual([]);
  });

  it('IR 3 models list initializers as inputs; after the upgrade they are plain initializers', () => {
    const m = oneOp({ opset: 6, x: [2, 3], build: (b, x, rng) => b.op('Mul', [x, randomInit(b, rng, 'w', [2, 3])]) });
    const proto = modelToBytes(m);
    const reloaded = modelFromBytes(proto, 'ir3');
    expect(reloaded.graph.inputs.map((v) => v.name)).toEqual(['x', 'w']);
    const report = upgradeOpset(reloaded);
    expect(report.irVersion).toBe(8);
    expect(reloaded.graph.inputs.map((v) => v.name)).toEqual(['x']);
    expect(reloaded.graph.initializers.map((v) => v.name)).toEqual(['w']);
  });
});

describe('upgradeOpset: refusals are one line naming the node', () => {
  it('an op without an upgrade rule, subgraphs, spatial=0, a read opset-9 Dropout mask', () => {
    // Scatter was deprecated at opset 11 (ScatterElements): regraft has no rule for it.
    const scatter = oneOp({ opset: 9, x: [2, 3], build: (b, x) => b.op('Scatter', [x, b.int64Init('i', [0, 1, 0], [1, 3]), b.floatInit('u', [1, 2, 3], [1, 3])]) });
    expect(() => upgradeOpset(scatter)).toThrow(/^opset upgrade: no upgrade rule for Scatter node .* from opset 9 to 17; convert the model with onnx.version_converter or re-export it at opset 17$/);

    const spatial = oneOp({
      opset: 7,
      x: [2, 3],
      build: (b, x) => b.op('BatchNormalization', [x, ...['s', 'o', 'm', 'v'].map((n) => b.floatInit(n, [1, 1, 1], [3]))], { spatial: 0 }),
    });
    expect(() => upgradeOpset(spatial)).toThrow(/BatchNormalization node .* has spatial=0/);

    const mask = oneOp({ opset: 9, x: [2, 3], build: (b, x) => b.op('Add', [...b.ops('Dropout', [x], {}, 2)]) });
    expect(() => upgradeOpset(mask)).toThrow(/Dropout node .* mask '.*' is read, and its type changes from float to bool at opset 10/);
  });

  it('targets out of range and downgrades', () => {
    const m = oneOp({ opset: 17, x: [2], build: (b, x) => b.op('Relu', [x]) });
    expect(() => upgradeOpset(m, 13)).toThrow('opset upgrade: the model is at opset 17, newer than the target 13; regraft does not downgrade');
    expect(() => upgradeOpset(m, 12)).toThrow('opset upgrade: target 12 is outside 13-21; choose one in that range (default 17)');
    expect(() => upgradeOpset(m, 30)).toThrow('opset upgrade: target 30 is outside 13-21; choose one in that range (default 17)');
    expect(upgradeOpset(m, 17).rewritten).toEqual([]);
  });
});
