// Training with float targets: regression losses (mse, l1) and bce-logits on 0/1 targets, from NPY data, through
// the API and the CLI; the reported losses are checked against their definitions computed here by hand.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BatchLoader, fitTargetShape, loadDataset, selectSamples, subsetDataset } from '../../src/data/index.js';
import { encodeNpy } from '../../src/data/npy.js';
import { buildMlp } from '../../src/models/builders.js';
import { exportRun } from '../../src/training/export.js';
import { evaluateTargetsFile } from '../../src/evaluate/regression.js';
import { train } from '../../src/training/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { runCli } from '../cli/helpers.js';
import { checkpointTensors, readMetrics, tempDir, writeModel } from './fixtures/runs.js';

const dir = tempDir('regression');

/** y = X w + b + noise, X [n, 3] standard normal; targets saved as (n,) or (n, 1) float32 (or int64 when asked). */
function writeLinearData(name: string, n: number, opts: { targetShape?: 'flat' | 'column'; noise?: number } = {}): { spec: string; x: Float32Array; y: Float32Array } {
  const rng = new Rng(7);
  const w = [1.5, -2, 0.5];
  const x = new Float32Array(n * 3);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v = 0.25;
    for (let j = 0; j < 3; j++) {
      x[i * 3 + j] = rng.normal();
      v += w[j] * x[i * 3 + j];
    }
    y[i] = v + (opts.noise ?? 0) * rng.normal();
  }
  const xp = join(dir, `${name}-x.npy`);
  const yp = join(dir, `${name}-y.npy`);
  writeFileSync(xp, encodeNpy('<f4', [n, 3], x));
  writeFileSync(yp, encodeNpy('<f4', opts.targetShape === 'column' ? [n, 1] : [n], y));
  return { spec: `npy:${xp},${yp}`, x, y };
}

/** A linear model 3 -> 1 (Gemm, output [N, 1]), as the MLP builder writes it without hidden layers. */
const linearModel = () => writeModel(buildMlp({ inputs: 3, hidden: [], classes: 1, seed: 3 }), dir, 'linear.onnx');

describe('float targets in the data layer', () => {
  it('NPY targets keep their per-sample shape and travel with their samples through subsets, selections and batches', async () => {
    const { spec, x, y } = writeLinearData('pairs', 10);
    const ds = await loadDataset(spec, { targets: 'values' });
    expect(ds.targets?.shape).toEqual([]);
    expect(ds.numClasses).toBe(0);
    expect(Array.from(subsetDataset(ds, 4).targets!.values)).toEqual(Array.from(y.subarray(0, 4)));
    expect(Array.from(selectSamples(ds, [7, 2]).targets!.values)).toEqual([y[7], y[2]]);

    const loader = new BatchLoader(ds, { batchSize: 4, seed: 1, targetShape: [1] });
    let seen = 0;
    for (const batch of loader.batches(0)) {
      expect(batch.targetDims).toEqual([batch.size, 1]);
      expect(batch.labels).toHaveLength(0);
      for (let k = 0; k < batch.size; k++) {
        // Find the sample by its features; its target must be the one stored with it.
        const i = Array.from({ length: 10 }, (_, j) => j).find((j) => x[j * 3] === batch.features[k * 3])!;
        expect(batch.targets![k]).toBe(y[i]);
      }
      seen += batch.size;
    }
    expect(seen).toBe(10);
  });

  it('a CSV label column read as values keeps fractions and signs (class labels would refuse them)', async () => {
    const path = join(dir, 'reg.csv');
    writeFileSync(path, 'a,b,"target"\n1,2,-0.5\n3,4,"2.25"\n');
    const ds = await loadDataset(`csv:${path}`, { targets: 'values' });
    expect(Array.from(ds.features)).toEqual([1, 2, 3, 4]);
    expect(Array.from(ds.targets!.values)).toEqual([-0.5, 2.25]);
    await expect(loadDataset(`csv:${path}`)).rejects.toThrow(`CSV file ${path} line 2: label '-0.5' is not a class index (0, 1, 2, ...)`);
  });

  it('integer label files read as values become float targets; (N,) targets fit an [N, 1] output and misfits name the output', async () => {
    const xp = join(dir, 'int-x.npy');
    const yp = join(dir, 'int-y.npy');
    writeFileSync(xp, encodeNpy('<f4', [3, 2], new Float32Array(6)));
    writeFileSync(yp, encodeNpy('<i8', [3], BigInt64Array.from([0n, 1n, 5n])));
    const ds = await loadDataset(`npy:${xp},${yp}`, { targets: 'values' });
    expect(Array.from(ds.targets!.values)).toEqual([0, 1, 5]);
    expect(fitTargetShape(ds, ['N', 1], 'out')).toEqual([1]);
    expect(() => fitTargetShape(ds, ['N', 3], 'out')).toThrow(
      "data 'npy:" + xp + ',' + yp + "' has targets of shape [] (1 value per sample) but model output 'out' has shape [N,3]: 3 values per sample; use targets shaped like the output",
    );
  });
});

describe('train with a regression loss', () => {
  it('mse: learns a linear map; validation and eval report the mean squared error as defined', async () => {
    const data = writeLinearData('lin', 400, { noise: 0.1 });
    const val = writeLinearData('lin-val', 100, { targetShape: 'column', noise: 0.1 });
    const out = join(dir, 'mse-run');
    const result = await train({ model: await linearModel(), data: data.spec, valData: val.spec, out, loss: 'mse', optimizer: 'adam', lr: 0.05, epochs: 8, batchSize: 20 });
    const metrics = result.metrics;
    expect(metrics[0].val_accuracy).toBeUndefined();
    // Noise variance is 0.01: a fitted linear model ends near it, far below where it started.
    expect(metrics.at(-1)!.val_loss!).toBeLessThan(0.02);
    expect(metrics.at(-1)!.val_loss!).toBeLessThan(metrics[0].val_loss! / 5);
    const weights = (await checkpointTensors(out)).get('fc1.weight')!.data;
    [1.5, -2, 0.5].forEach((w, j) => expect(weights[j]).toBeCloseTo(w, 1));

    const exported = join(dir, 'linear-trained.onnx');
    await exportRun(out, exported);
    const m = await evaluateTargetsFile(exported, val.spec, { loss: 'mse' });
    // By hand: predictions of the exported weights, squared errors averaged in float64.
    const tensors = await checkpointTensors(out, 'best');
    const [wt, bias] = [tensors.get('fc1.weight')!.data, tensors.get('fc1.bias')!.data[0]];
    let sq = 0;
    let abs = 0;
    for (let i = 0; i < 100; i++) {
      const p = Math.fround(val.x[i * 3] * wt[0] + val.x[i * 3 + 1] * wt[1] + val.x[i * 3 + 2] * wt[2] + bias);
      sq += (p - val.y[i]) ** 2;
      abs += Math.abs(p - val.y[i]);
    }
    expect(m.samples).toBe(100);
    expect(m.loss).toBeCloseTo(sq / 100, 5);
    expect(m.mae).toBeCloseTo(abs / 100, 5);
    expect(m.rmse).toBeCloseTo(Math.sqrt(sq / 100), 5);
    expect(readMetrics(out).at(result.bestEpoch - 1)!.val_loss).toBeCloseTo(m.loss, 5);
  });

  it('bce-logits on 0/1 labels reports validation accuracy; l1 trains too', async () => {
    // A separable binary problem: label = x0 + x1 > 0, stored as int64 labels and read as float targets.
    const rng = new Rng(2);
    const n = 300;
    const x = Float32Array.from({ length: n * 3 }, () => rng.normal());
    const labels = BigInt64Array.from({ length: n }, (_, i) => (x[i * 3] + x[i * 3 + 1] > 0 ? 1n : 0n));
    writeFileSync(join(dir, 'bin-x.npy'), encodeNpy('<f4', [n, 3], x));
    writeFileSync(join(dir, 'bin-y.npy'), encodeNpy('<i8', [n], labels));
    const spec = `npy:${join(dir, 'bin-x.npy')},${join(dir, 'bin-y.npy')}`;
    const bce = await train({ model: await linearModel(), data: spec, out: join(dir, 'bce-run'), loss: 'bce-logits', optimizer: 'adam', lr: 0.05, epochs: 5, batchSize: 25, valSplit: 0.2 });
    expect(bce.metrics.at(-1)!.val_accuracy!).toBeGreaterThan(0.95);

    const l1 = await train({ model: await linearModel(), data: writeLinearData('l1', 200).spec, out: join(dir, 'l1-run'), loss: 'l1', optimizer: 'adam', lr: 0.05, epochs: 6, batchSize: 20, valSplit: 0.25 });
    expect(l1.metrics.at(-1)!.val_loss!).toBeLessThan(l1.metrics[0].val_loss! / 3);
  });

  it('CLI: train --loss mse --export --test prints the test mse; eval --loss mse --json matches it', async () => {
    const data = writeLinearData('cli', 200, { noise: 0.1 });
    const test = writeLinearData('cli-test', 50, { noise: 0.1 });
    const exported = join(dir, 'cli-linear.onnx');
    const run = await runCli('train', await linearModel(), '--data', data.spec, '--out', join(dir, 'cli-run'), '--loss', 'mse', '--optimizer', 'adam', '--lr', '0.05', '--epochs', '4', '--batch-size', '20', '--val-split', '0.1', '--export', exported, '--test', test.spec);
    expect(run.err).toEqual([]);
    expect(run.code).toBe(0);
    const line = run.out.find((l) => l.startsWith('test mse on '))!;
    expect(line).toMatch(/^test mse on npy:.*: \d\.\d{6} \(mae \S+, rmse \S+, 50 samples\)$/);
    const evalRun = await runCli('eval', exported, '--data', test.spec, '--loss', 'mse', '--json');
    const json = JSON.parse(evalRun.out[0]) as { loss: number; lossKind: string; mae: number; rmse: number; samples: number };
    expect(Object.keys(json)).toEqual(['loss', 'lossKind', 'mae', 'rmse', 'samples']);
    expect(json.lossKind).toBe('mse');
    expect(line).toContain(`: ${json.loss.toFixed(6)} (`);
  });

  it('a model output that the targets do not fit is a one-line error naming it, before the run directory exists', async () => {
    const model = await writeModel(buildMlp({ inputs: 3, hidden: [], classes: 2, seed: 3 }), dir, 'two-out.onnx');
    const out = join(dir, 'misfit-run');
    const r = await runCli('train', model, '--data', writeLinearData('misfit', 20).spec, '--out', out, '--loss', 'mse');
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/has targets of shape \[\] \(1 value per sample\) but model output 'logits' has shape \[N,2\]/);
  });
});
