// evaluateFile reads the model file once: the choice of scoring (named or feature evaluation) and the scoring itself
// share the model it loaded. loadModel is wrapped to count its calls; the scores are checked too, so the shared
// model is the one scored.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { namedArrays } from '../../src/data/index.js';
import { evaluateFile } from '../../src/evaluate/index.js';
import { DataType, GraphBuilder, newModel } from '../../src/ir/index.js';
import { saveModel } from '../../src/model-io.js';

const loads = vi.hoisted(() => ({ paths: [] as string[] }));
vi.mock('../../src/model-io.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/model-io.js')>();
  return {
    ...actual,
    loadModel: (path: string, ...rest: unknown[]) => {
      loads.paths.push(path);
      return (actual.loadModel as (...args: unknown[]) => ReturnType<typeof actual.loadModel>)(path, ...rest);
    },
  };
});

describe('evaluateFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'regraft-eval-file-'));
  const modelPath = join(dir, 'identity.onnx');
  // y = x for x [N, 2], logits whose argmax is a row's larger column; sum = x0 + x1 [N, 1], a prediction.
  const rows = [
    [2, 0, 0],
    [0, 2, 1],
    [2, 0, 1],
  ];

  beforeAll(async () => {
    const model = newModel({ opset: 17 });
    const x = model.graph.addInput('x').setTensorType(DataType.FLOAT, ['N', 2]);
    const b = new GraphBuilder(model.graph);
    model.graph.addOutput(b.op('Identity', [x], {}, { output: 'y' }).setTensorType(DataType.FLOAT, ['N', 2]));
    model.graph.addOutput(b.op('ReduceSum', [x, b.ints([1])], { keepdims: 1 }, { output: 'sum' }).setTensorType(DataType.FLOAT, ['N', 1]));
    await saveModel(model, modelPath);
  });
  beforeEach(() => {
    loads.paths = [];
  });

  it('loads the model once to score a classifier on a feature file', async () => {
    const csv = join(dir, 'classes.csv');
    writeFileSync(csv, rows.map((r) => r.join(',')).join('\n') + '\n');
    const e = await evaluateFile(modelPath, `csv:${csv}`);
    expect(loads.paths).toEqual([modelPath]);
    expect(e.kind).toBe('classification');
    expect(e.metrics.samples).toBe(3);
    if (e.kind === 'classification') expect(e.metrics.accuracy).toBeCloseTo(2 / 3, 12);
  });

  it('loads the model once to score a regression', async () => {
    const csv = join(dir, 'targets.csv');
    // Two features, then their sum as the float target, missed by 1 in the second row: mse 1/2.
    writeFileSync(csv, '1,2,3\n3,4,8\n');
    const e = await evaluateFile(modelPath, `csv:${csv}`, { loss: 'mse', output: 'sum' });
    expect(loads.paths).toEqual([modelPath]);
    expect(e.kind).toBe('regression');
    expect(e.metrics.loss).toBeCloseTo(1 / 2, 12);
  });

  it('loads the model once to score named arrays', async () => {
    const data = namedArrays({
      x: { data: Float32Array.from(rows.flatMap((r) => r.slice(0, 2))), dims: [3, 2] },
      labels: { data: BigInt64Array.from(rows, (r) => BigInt(r[2])), dims: [3] },
    });
    const e = await evaluateFile(modelPath, data);
    expect(loads.paths).toEqual([modelPath]);
    expect(e.kind).toBe('classification');
    if (e.kind === 'classification') expect(e.metrics.accuracy).toBeCloseTo(2 / 3, 12);
  });
});
