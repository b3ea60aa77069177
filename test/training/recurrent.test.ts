// A sequence classifier with an LSTM layer (as PyTorch exports nn.LSTM: Transpose to time-major, LSTM, Y_h) trains
// through regraft's unrolled step, and exports with its fused LSTM node holding the trained weights.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNpy } from '../../src/data/npy.js';
import { DataType, GraphBuilder, newModel } from '../../src/ir/index.js';
import { loadModel } from '../../src/model-io.js';
import { exportRun } from '../../src/training/export.js';
import { evaluateModelFile } from '../../src/evaluate/classification.js';
import { train } from '../../src/training/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { runCli } from '../cli/helpers.js';
import { tempDir, writeModel } from './fixtures/runs.js';

const dir = tempDir('recurrent');
const [STEPS, FEATURES, HIDDEN] = [5, 3, 8];

/** x [N, 5, 3] -> Transpose [5, N, 3] -> LSTM -> Y_h [1, N, 8] -> Squeeze -> Gemm -> logits [N, 2]. */
function lstmClassifier() {
  const model = newModel({ opset: 17 });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const rng = new Rng(6);
  const init = (name: string, dims: number[]) => b.floatInit(name, Array.from({ length: dims.reduce((a, d) => a * d, 1) }, () => 0.4 * rng.normal()), dims);
  const x = g.addInput('x').setTensorType(DataType.FLOAT, ['N', STEPS, FEATURES]);
  const timeMajor = b.op('Transpose', [x], { perm: [1, 0, 2] }, { name: '/Transpose' });
  const [, lastH] = b.ops('LSTM', [timeMajor, init('lstm.W', [1, 4 * HIDDEN, FEATURES]), init('lstm.R', [1, 4 * HIDDEN, HIDDEN]), init('lstm.B', [1, 8 * HIDDEN])], { hidden_size: HIDDEN }, 2, { name: '/lstm/LSTM' });
  const h = b.op('Squeeze', [lastH, b.ints([0])], {}, { name: '/Squeeze' });
  const logits = b.op('Gemm', [h, init('fc.weight', [2, HIDDEN]), init('fc.bias', [2])], { transB: 1 }, { name: '/fc/Gemm', output: 'logits' });
  logits.setTensorType(DataType.FLOAT, ['N', 2]);
  g.addOutput(logits);
  return model;
}

/** Sequences of normal noise; the label says whether feature 0 sums to more than 0 over time. */
function writeSequences(name: string, n: number, seed: number): string {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: n * STEPS * FEATURES }, () => rng.normal());
  const y = BigInt64Array.from({ length: n }, (_, i) => {
    let sum = 0;
    for (let t = 0; t < STEPS; t++) sum += x[(i * STEPS + t) * FEATURES];
    return sum > 0 ? 1n : 0n;
  });
  writeFileSync(join(dir, `${name}-x.npy`), encodeNpy('<f4', [n, STEPS, FEATURES], x));
  writeFileSync(join(dir, `${name}-y.npy`), encodeNpy('<i8', [n], y));
  return `npy:${join(dir, `${name}-x.npy`)},${join(dir, `${name}-y.npy`)}`;
}

describe('recurrent layers', () => {
  it('an LSTM classifier trains (unrolled step), exports with its LSTM node and scores the same in eval', async () => {
    const model = await writeModel(lstmClassifier(), dir, 'lstm.onnx');
    const compile = await runCli('compile', model, '-o', join(dir, 'lstm-step.onnx'), '--loss', 'cross-entropy', '--optimizer', 'adam', '--clip-grad-norm', '1');
    expect(compile.out).toContain("  unrolled LSTM node '/lstm/LSTM' over 5 time steps (its weights keep their names)");

    const out = join(dir, 'run');
    const val = writeSequences('val', 200, 2);
    const result = await train({ model, data: writeSequences('train', 600, 1), valData: val, out, optimizer: 'adam', lr: 0.02, epochs: 8, batchSize: 20, clipGradNorm: 1 });
    const last = result.metrics.at(-1)!;
    expect(last.val_accuracy!).toBeGreaterThan(0.9);
    expect(last.val_loss!).toBeLessThan(result.metrics[0].val_loss!);

    const exported = join(dir, 'lstm-trained.onnx');
    await exportRun(out, exported, { checkpoint: 'last' });
    const inference = await loadModel(exported);
    expect(inference.graph.nodes.map((n) => n.opType)).toEqual(['Transpose', 'LSTM', 'Squeeze', 'Gemm']);
    expect((await evaluateModelFile(exported, val)).accuracy).toBeCloseTo(last.val_accuracy!, 10);
  });
});
