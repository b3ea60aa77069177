import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { DataType, GraphBuilder, newModel, tensorToFloat32, type Model } from '../../src/ir/index.js';
import { addPenalty, addPenaltyPass, penaltyParameters, runPasses, step } from '../../src/passes/index.js';
import { Rng } from '../../src/util/rng.js';
import { loadModel } from '../../src/model-io.js';
import { EXPORTERS, FINETUNE, FIXTURE_NAMES, transformerFixture, type Exporter } from '../fixtures-npz.js';
import { clone, names, randomWeights, run } from './models.js';

// x[N,4] -> MatMul(W1) -> Add(b1) -> Relu -> Gemm(W2, b2) -> logits; loss = ReduceMean(logits^2) -> loss (output)
function regression(): Model {
  const model = newModel({ opset: 17 });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const rng = new Rng(5);
  const x = g.addInput('x').setTensorType(DataType.FLOAT, ['N', 4]);
  const h = b.op('Relu', [b.add(b.op('MatMul', [x, b.floatInit('W1', randomWeights(rng, 20), [4, 5])]), b.floatInit('b1', randomWeights(rng, 5), [5]))]);
  const logits = b.op('Gemm', [h, b.floatInit('W2', randomWeights(rng, 10), [5, 2]), b.floatInit('b2', randomWeights(rng, 2), [2])], {}, { output: 'logits' });
  logits.setTensorType(DataType.FLOAT, ['N', 2]);
  const loss = b.op('ReduceMean', [b.mul(logits, logits)], { keepdims: 0 }, { output: 'loss' }).setTensorType(DataType.FLOAT, []);
  g.addOutput(logits);
  g.addOutput(loss);
  return model;
}

const weights = (model: Model, name: string) => Array.from(tensorToFloat32(model.graph.requireValue(name).initializer!));
const sumSquares = (w: number[]) => w.reduce((a, v) => a + v * v, 0);
const sumAbs = (w: number[]) => w.reduce((a, v) => a + Math.abs(v), 0);

async function lossOf(model: Model): Promise<number> {
  const x = new ort.Tensor('float32', Float32Array.from(randomWeights(new Rng(9), 12, 1)), [3, 4]);
  return (await run(model, { x }, ['loss'])).loss[0];
}

describe('penaltyParameters', () => {
  it('picks the weights by default (not biases), every parameter with all, and globs', () => {
    const model = regression();
    expect(penaltyParameters(model)).toEqual(['W1', 'W2']);
    expect(penaltyParameters(model, 'all')).toEqual(['W1', 'b1', 'W2', 'b2']);
    expect(penaltyParameters(model, ['b*'])).toEqual(['b1', 'b2']);
    expect(penaltyParameters(model, ['default', 'b2'])).toEqual(['W1', 'W2', 'b2']);
    expect(() => penaltyParameters(model, ['conv*'])).toThrow("penalty parameters: 'conv*' matches no float initializer; candidates: W1, b1, W2, b2");
  });

  it('leaves BatchNormalization running statistics out of all', () => {
    // x -> BatchNormalization(scale, bias, mean, var) -> y
    const model = newModel({ opset: 17 });
    const b = new GraphBuilder(model.graph);
    const x = model.graph.addInput('x').setTensorType(DataType.FLOAT, [1, 2]);
    const stats = ['scale', 'bias', 'mean', 'var'].map((n) => b.floatInit(n, [1, 1], [2]));
    model.graph.addOutput(b.op('BatchNormalization', [x, ...stats]));
    expect(penaltyParameters(model, 'all')).toEqual(['scale', 'bias']);
  });
});

describe('add-penalty', () => {
  it('adds (l2/2) sum w^2 + l1 sum |w| under the loss name; the value matches the weights', async () => {
    const original = regression();
    const model = clone(original);
    const result = addPenalty(model, { loss: 'loss', l2: 0.1, l1: 0.01 });
    expect(result).toMatchObject({ modified: true, penalized: ['W1', 'W2'], penalties: { l2: 'penalty_l2', l1: 'penalty_l1' }, dataLoss: 'loss_data' });
    expect(names(model.graph.outputs)).toEqual(['logits', 'loss']);
    expect(names(model.graph.inputs)).toEqual(['x']);

    const w = [...weights(model, 'W1'), ...weights(model, 'W2')];
    const expected = (await lossOf(original)) + (0.1 / 2) * sumSquares(w) + 0.01 * sumAbs(w);
    expect(await lossOf(model)).toBeCloseTo(expected, 4);
  });

  it.each([
    ['L2 only', { l2: 0.5 }, (w: number[]) => 0.25 * sumSquares(w)],
    ['L1 only, biases too', { l1: 0.2, params: 'all' as const }, (w: number[]) => 0.2 * sumAbs(w)],
  ])('%s', async (_label, opts, penalty) => {
    const original = regression();
    const model = clone(original);
    const { penalized } = addPenalty(model, { loss: 'loss', ...opts });
    const w = penalized.flatMap((n) => weights(model, n));
    expect(await lossOf(model)).toBeCloseTo((await lossOf(original)) + penalty(w), 4);
  });

  it('changes nothing with zero coefficients', () => {
    const model = regression();
    const before = model.graph.nodes.length;
    expect(addPenalty(model, { loss: 'loss', l2: 0, l1: 0 })).toMatchObject({ modified: false, penalized: [] });
    expect(model.graph.nodes.length).toBe(before);
  });

  it('keeps the interface through the runner', () => {
    const model = regression();
    const result = runPasses(model, [step(addPenaltyPass, { loss: 'loss', l2: 1e-3 })]);
    expect(result.modified).toBe(true);
    expect(names(model.graph.outputs)).toEqual(['logits', 'loss']);
    expect(model.graph.outputs[1].producer!.opType).toBe('Add');
  });

  it('rejects an unknown loss, listing the graph outputs, and bad coefficients', () => {
    expect(() => addPenalty(regression(), { loss: 'los', l2: 1 })).toThrow("add-penalty: no value named 'los' in graph 'main'; graph outputs: logits, loss");
    expect(() => addPenalty(regression(), { loss: 'loss', l2: -1 })).toThrow('L2 coefficient must be a finite number >= 0, got -1');
    expect(() => addPenalty(regression(), { loss: 'loss', l1: Number.NaN })).toThrow('L1 coefficient must be a finite number >= 0, got NaN');
    expect(() => addPenalty(regression(), { loss: 'logits', l2: 1 })).toThrow("add-penalty: loss 'logits' has shape [N, 2]; the penalty is added to a scalar loss, reduce it first");
    expect(() => addPenalty(regression(), { loss: 'loss' })).toThrow(/give an L2 and\/or L1 coefficient/);
  });
});

describe("the default selection is Hugging Face Trainer's weight-decay group", () => {
  // references.json holds, per fixture and exporter, the initializers that hold the parameters
  // Trainer.get_decay_parameter_names returns (no biases, no LayerNorm weights; embeddings and heads decayed).
  const decay = JSON.parse(readFileSync(join(FINETUNE, 'references.json'), 'utf8')).decay as Record<string, Record<Exporter, string[]>>;
  it.each(FIXTURE_NAMES.flatMap((n) => EXPORTERS.map((e) => [n, e] as const)))('%s (%s)', async (name, exporter) => {
    const model = await loadModel(transformerFixture(name).model(exporter));
    expect(penaltyParameters(model).sort()).toEqual(decay[name][exporter]);
  });
});
