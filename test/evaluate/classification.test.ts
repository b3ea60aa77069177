import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../src/data/index.js';
import { RegraftError } from '../../src/errors.js';
import { DataType, GraphBuilder, newModel, type Model } from '../../src/ir/index.js';
import { modelToBytes, saveModel } from '../../src/model-io.js';
import { createSession, ortFloatTensor, type Session } from '../../src/runtime/index.js';
import { evaluate, evaluateModelFile } from '../../src/evaluate/classification.js';

// W [2,3] row-major; logits = x @ W are small integers, exact in float32.
const W = [1, 0, -1, 0, 2, 1];
// x            logits       pred  label
// [1,0]  ->  [1, 0,-1]       0      0
// [0,1]  ->  [0, 2, 1]       1      1
// [1,1]  ->  [1, 2, 0]       1      2   (wrong)
// [2,0]  ->  [2, 0,-2]       0      0
// [0,0]  ->  [0, 0, 0]       0      1   (wrong; a tie goes to the first class)
const X = [1, 0, 0, 1, 1, 1, 2, 0, 0, 0];
const LABELS = [0, 1, 2, 0, 1];

/** logits = Gemm(x, W): x float [N, 2]; W an initializer, or a graph input when `wAsInput`. */
function gemmModel(weights: number[], { wAsInput = false } = {}): Model {
  const model = newModel({ opset: 17 });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const x = g.addInput('x').setTensorType(DataType.FLOAT, ['N', 2]);
  const w = wAsInput ? g.addInput('W').setTensorType(DataType.FLOAT, [2, 3]) : b.floatInit('W', weights, [2, 3]);
  const logits = b.op('Gemm', [x, w], {}, { output: 'logits' }).setTensorType(DataType.FLOAT, ['N', 3]);
  g.addOutput(logits);
  return model;
}

function dataset(x: number[], labels: number[], numClasses = 3): Dataset {
  return { name: 'toy', size: labels.length, sampleShape: [2], features: Float32Array.from(x), labels: Int32Array.from(labels), numClasses };
}

/** Reference cross-entropy written the naive way (fine for these small logits). */
function referenceLoss(x: number[], labels: number[], w: number[]): number {
  let sum = 0;
  labels.forEach((y, i) => {
    const z = [0, 1, 2].map((c) => x[2 * i] * w[c] + x[2 * i + 1] * w[3 + c]);
    const p = Math.exp(z[y]) / z.reduce((s, v) => s + Math.exp(v), 0);
    sum += -Math.log(p);
  });
  return sum / labels.length;
}

async function withSession<T>(model: Model, use: (s: Session) => Promise<T>): Promise<T> {
  const session = await createSession(modelToBytes(model), { name: 'gemm.onnx' });
  try {
    return await use(session);
  } finally {
    await session.release();
  }
}

const IO = { inputName: 'x', outputName: 'logits', sampleDims: [2] };

describe('evaluate', () => {
  it('scores logits exactly: loss, accuracy, confusion [true][pred]', async () => {
    const m = await withSession(gemmModel(W), (s) => evaluate(s, dataset(X, LABELS), IO));
    expect(m.samples).toBe(5);
    expect(m.numClasses).toBe(3);
    expect(m.accuracy).toBe(3 / 5);
    expect(m.loss).toBeCloseTo(referenceLoss(X, LABELS, W), 12);
    expect(m.confusion).toEqual([
      [2, 0, 0],
      [1, 1, 0],
      [0, 1, 0],
    ]);
  });

  it('gives the same result whatever the batch size, the last partial batch included', async () => {
    await withSession(gemmModel(W), async (s) => {
      const whole = await evaluate(s, dataset(X, LABELS), IO);
      for (const batchSize of [1, 2, 3]) {
        const m = await evaluate(s, dataset(X, LABELS), { ...IO, batchSize });
        expect(m.samples).toBe(5);
        expect(m.confusion).toEqual(whole.confusion);
        expect(m.loss).toBeCloseTo(whole.loss, 12);
      }
    });
  });

  it('evaluates only the chosen indices', async () => {
    const m = await withSession(gemmModel(W), (s) => evaluate(s, dataset(X, LABELS), { ...IO, indices: Int32Array.of(4, 2) }));
    expect(m.samples).toBe(2);
    expect(m.accuracy).toBe(0);
    expect(m.loss).toBeCloseTo(referenceLoss([0, 0, 1, 1], [1, 2], W), 12);
  });

  it('feeds extraFeeds, so a trainer can score its current parameters', async () => {
    const negated = W.map((v) => -v);
    await withSession(gemmModel(W, { wAsInput: true }), async (s) => {
      const a = await evaluate(s, dataset(X, LABELS), { ...IO, extraFeeds: { W: ortFloatTensor(Float32Array.from(W), [2, 3]) } });
      const b = await evaluate(s, dataset(X, LABELS), { ...IO, extraFeeds: { W: ortFloatTensor(Float32Array.from(negated), [2, 3]) } });
      expect(a.loss).toBeCloseTo(referenceLoss(X, LABELS, W), 12);
      expect(b.loss).toBeCloseTo(referenceLoss(X, LABELS, negated), 12);
      expect(b.loss).not.toBeCloseTo(a.loss, 3);
    });
  });

  it('stays finite for huge logits (log-sum-exp shifted by the max)', async () => {
    // x = [1, 0] -> logits [1000, 0, -1000]: loss 0 for label 0, 1000 for label 1; naive exp(1000) overflows.
    const big = W.map((v) => v * 1000);
    const m = await withSession(gemmModel(big), (s) => evaluate(s, dataset([1, 0, 1, 0], [0, 1]), IO));
    expect(m.loss).toBeCloseTo(500, 9);
    expect(m.accuracy).toBe(0.5);
  });

  it('refuses data with more classes than the logits have columns, naming both', async () => {
    const err = await withSession(gemmModel(W), (s) => evaluate(s, dataset(X, LABELS, 4), IO)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegraftError);
    expect((err as Error).message).toMatch(/data 'toy' has 4 classes but output 'logits' of model gemm\.onnx has only 3 columns/);
  });

  it('refuses an empty selection', async () => {
    const err = await withSession(gemmModel(W), (s) => evaluate(s, dataset(X, LABELS), { ...IO, indices: new Int32Array(0) })).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/nothing to evaluate/);
  });
});

describe('evaluateModelFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'regraft-eval-'));
  /** Two feature columns (X unless given) and a label column. */
  const csv = (name: string, labels: number[], x: number[] = X) => {
    const path = join(dir, name);
    writeFileSync(path, labels.map((y, i) => `${x[2 * i]},${x[2 * i + 1]},${y}`).join('\n') + '\n');
    return `csv:${path}`;
  };

  it('loads model and data, fits the data to the input and scores it', async () => {
    const path = join(dir, 'gemm.onnx');
    await saveModel(gemmModel(W), path);
    const m = await evaluateModelFile(path, csv('toy.csv', LABELS), { batchSize: 2 });
    expect(m.samples).toBe(5);
    expect(m.accuracy).toBe(0.6);
    expect(m.loss).toBeCloseTo(referenceLoss(X, LABELS, W), 6);
  });

  it('feeds an int64 input (ids) the features as int64; refuses fractional ids and inputs of other types', async () => {
    // logits = Cast(Gather(W, ids)) summed over the 2 ids of a sample: an embedding classifier in miniature.
    const model = newModel({ opset: 17 });
    const g = model.graph;
    const b = new GraphBuilder(g);
    const ids = g.addInput('ids').setTensorType(DataType.INT64, ['N', 2]);
    const table = b.floatInit('table', [1, 0, 0, 0, 1, 0, 0, 0, 1], [3, 3]);
    const y = b.op('ReduceSum', [b.op('Gather', [table, ids]), b.ints([1])], { keepdims: 0 }, { output: 'logits' });
    y.setTensorType(DataType.FLOAT, ['N', 3]);
    g.addOutput(y);
    const path = join(dir, 'ids-input.onnx');
    await saveModel(model, path);
    // ids [0,0] -> class 0, [1,1] -> 1, [2,2] -> 2, [0,2] -> tie 0/2 -> 0, [1,2] -> tie -> 1.
    const m = await evaluateModelFile(path, csv('ids.csv', [0, 1, 2, 2, 1], [0, 0, 1, 1, 2, 2, 0, 2, 1, 2]));
    expect(m.accuracy).toBeCloseTo(4 / 5, 12);
    await expect(evaluateModelFile(path, csv('halves.csv', [0, 1], [0.5, 0, 1, 1]))).rejects.toThrow(
      /feature 0.5 of sample 0 is not a whole number up to 2\^24, but model input 'ids' takes int64 ids/,
    );

    const boolModel = newModel({ opset: 17 });
    const flag = boolModel.graph.addInput('flag').setTensorType(DataType.BOOL, ['N', 2]);
    const z = new GraphBuilder(boolModel.graph).op('Cast', [flag], { to: DataType.FLOAT }, { output: 'logits' });
    z.setTensorType(DataType.FLOAT, ['N', 2]);
    boolModel.graph.addOutput(z);
    const boolPath = join(dir, 'bool-input.onnx');
    await saveModel(boolModel, boolPath);
    await expect(evaluateModelFile(boolPath, csv('a.csv', LABELS))).rejects.toThrow(/bool-input\.onnx has no float32 or int64 input .*flag \(BOOL\)/);
  });

  it('refuses an output that is not [N, C]', async () => {
    const model = gemmModel(W);
    const b = new GraphBuilder(model.graph);
    const cube = b.op('Unsqueeze', [model.graph.requireValue('logits'), b.ints([2])], {}, { output: 'cube' });
    cube.setTensorType(DataType.FLOAT, ['N', 3, 1]);
    model.graph.addOutput(cube);
    const path = join(dir, 'rank3.onnx');
    await saveModel(model, path);
    await expect(evaluateModelFile(path, csv('b.csv', LABELS), { output: 'cube' })).rejects.toThrow(
      /output 'cube' of model .*rank3\.onnx has rank 3 .*needs logits \[N, C\]/,
    );
    await expect(evaluateModelFile(path, csv('b.csv', LABELS), { output: 'nope' })).rejects.toThrow(/has no output 'nope' \(outputs: logits, cube\)/);
  });

  it('refuses data with more classes than the model outputs, naming model and data', async () => {
    const path = join(dir, 'gemm3.onnx');
    await saveModel(gemmModel(W), path);
    const spec = csv('four.csv', [0, 1, 2, 3, 0]);
    await expect(evaluateModelFile(path, spec)).rejects.toThrow(/data '.*four\.csv' has 4 classes but output 'logits' of model .*gemm3\.onnx has only 3/);
  });
});
