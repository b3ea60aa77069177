// Which float initializers are parameters: PyTorch's own parameters() is the ground truth. The transformers fixtures'
// meta.json lists, per export, the initializers that hold a PyTorch parameter and the float constants the exporter
// stored as initializers; the size-one fixture holds real parameters of one element (PReLU's slope, a [1] bias).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataType, GraphBuilder, newModel } from '../../src/ir/index.js';
import { classifyInitializers, parameterRole } from '../../src/ir/parameters.js';
import { loadModel } from '../../src/model-io.js';
import { EXPORTERS, FINETUNE, FIXTURE_NAMES, transformerFixture } from '../fixtures-npz.js';

const names = (vs: readonly { name: string }[]) => vs.map((v) => v.name).sort();

describe('parameters and constants', () => {
  it.each(FIXTURE_NAMES.flatMap((n) => EXPORTERS.map((e) => [n, e] as const)))('%s (%s): exactly the initializers that hold PyTorch parameters', async (name, exporter) => {
    const fixture = transformerFixture(name);
    const info = fixture.meta.exports[exporter];
    const { parameters, constants } = classifyInitializers((await loadModel(fixture.model(exporter))).graph);
    expect(names(parameters)).toEqual(info.parameters.map((p) => p.initializer).sort());
    expect(constants.map((c) => c.value.name).sort()).toEqual(info.non_parameters.map((p) => p.initializer).sort());
  });

  it("transformer-encoder's attention scale of shape [1] is a constant, with the reason", async () => {
    const model = await loadModel(transformerFixture('transformer-encoder').model('dynamo'));
    const scale = classifyInitializers(model.graph).constants.find((c) => c.value.name === 'val_100');
    expect(scale?.reason).toBe('one element read only by Mul (a constant factor, not a layer\'s parameter)');
  });

  it.each(EXPORTERS)('one-element parameters (PReLU slope, the bias of nn.Linear(3, 1) on 3-D input) are parameters (%s)', async (exporter) => {
    const mapping = JSON.parse(readFileSync(join(FINETUNE, 'size-one.json'), 'utf8')).initializers[exporter] as Record<string, string | null>;
    const { parameters, constants } = classifyInitializers((await loadModel(join(FINETUNE, `size-one.${exporter}.onnx`))).graph);
    expect(Object.values(mapping).every((p) => p !== null)).toBe(true);
    expect(names(parameters)).toEqual(Object.keys(mapping).sort());
    expect(constants).toEqual([]);
    const slope = Object.keys(mapping).find((k) => mapping[k] === 'act.weight')!;
    expect(parameters.find((v) => v.name === slope)!.initializer!.dims.map(Number).reduce((a, d) => a * d, 1)).toBe(1);
  });

  it('rank 0, inf/NaN fills and BatchNormalization statistics are constants; a one-element operand of Add after a MatMul is a bias', () => {
    // x[N,4] -> MatMul(W) -> Add(b [1]) -> Mul(s [1]) -> Add(mask [4] with -inf) -> Mul(scalar) -> BN(scale, bias, mean, var) -> y
    const model = newModel({ opset: 17 });
    const g = model.graph;
    const b = new GraphBuilder(g);
    const x = g.addInput('x').setTensorType(DataType.FLOAT, ['N', 4]);
    let h = b.op('MatMul', [x, b.floatInit('W', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [4, 4])]);
    h = b.add(h, b.floatInit('bias1', [0.5], [1]));
    h = b.mul(h, b.floatInit('scale1', [0.25], [1]));
    h = b.add(h, b.floatInit('mask', [0, -Infinity, 0, 0], [4]));
    h = b.mul(h, b.floatInit('half', [0.5], []));
    const bn = ['bn.scale', 'bn.bias', 'bn.mean', 'bn.var'].map((n) => b.floatInit(n, [1, 1, 1, 1], [4]));
    g.addOutput(b.op('BatchNormalization', [h, ...bn]));
    const { parameters, constants } = classifyInitializers(g);
    expect(names(parameters)).toEqual(['W', 'bias1', 'bn.bias', 'bn.scale']);
    expect(Object.fromEntries(constants.map((c) => [c.value.name, c.reason]))).toEqual({
      scale1: "one element read only by Mul (a constant factor, not a layer's parameter)",
      mask: 'holds -Infinity (a mask fill, not a weight)',
      half: 'rank 0 (a scalar constant)',
      'bn.mean': 'a BatchNormalization running statistic (updated by the forward pass)',
      'bn.var': 'a BatchNormalization running statistic (updated by the forward pass)',
    });
    expect(parameters.map((v) => [v.name, parameterRole(v)])).toEqual([
      ['W', 'weight'],
      ['bias1', 'bias'],
      ['bn.scale', 'normalization'],
      ['bn.bias', 'normalization'],
    ]);
  });
});
