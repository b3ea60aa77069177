// Models whose input is int64 ids (an embedding table read with Gather, as PyTorch exports nn.Embedding) train,
// validate, export and evaluate from integer NPY data.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNpy } from '../../src/data/npy.js';
import { DataType, GraphBuilder, newModel } from '../../src/ir/index.js';
import { exportRun } from '../../src/training/export.js';
import { evaluateModelFile } from '../../src/evaluate/classification.js';
import { train } from '../../src/training/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { tempDir, writeModel } from './fixtures/runs.js';

const dir = tempDir('ids');
const VOCAB = 10;
const LENGTH = 4;

/** ids [N, 4] -> Gather(embedding [10, 8]) -> ReduceMean over the sequence -> Gemm -> logits [N, 2]. */
function bagOfEmbeddings() {
  const model = newModel({ opset: 17 });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const rng = new Rng(4);
  const init = (name: string, dims: number[]) => b.floatInit(name, Array.from({ length: dims.reduce((a, d) => a * d, 1) }, () => 0.3 * rng.normal()), dims);
  const ids = g.addInput('ids').setTensorType(DataType.INT64, ['N', LENGTH]);
  const embedded = b.op('Gather', [init('embedding.weight', [VOCAB, 8]), ids], {}, { name: 'embedding' });
  const pooled = b.op('ReduceMean', [embedded], { axes: [1], keepdims: 0 }, { name: 'pool' });
  const logits = b.op('Gemm', [pooled, init('fc.weight', [2, 8]), init('fc.bias', [2])], { transB: 1 }, { name: 'fc', output: 'logits' });
  logits.setTensorType(DataType.FLOAT, ['N', 2]);
  g.addOutput(logits);
  return model;
}

/** n sequences of ids; the label says whether id 7 occurs in the sequence. */
function writeIds(name: string, n: number, seed: number): string {
  const rng = new Rng(seed);
  const ids = BigInt64Array.from({ length: n * LENGTH }, () => BigInt(rng.int(VOCAB)));
  const labels = BigInt64Array.from({ length: n }, (_, i) => (ids.subarray(i * LENGTH, (i + 1) * LENGTH).includes(7n) ? 1n : 0n));
  writeFileSync(join(dir, `${name}-x.npy`), encodeNpy('<i8', [n, LENGTH], ids));
  writeFileSync(join(dir, `${name}-y.npy`), encodeNpy('<i8', [n], labels));
  return `npy:${join(dir, `${name}-x.npy`)},${join(dir, `${name}-y.npy`)}`;
}

describe('int64 id inputs', () => {
  it('an embedding classifier learns which sequences hold id 7; the exported model scores the same in eval', async () => {
    const model = await writeModel(bagOfEmbeddings(), dir, 'bag.onnx');
    const out = join(dir, 'run');
    const result = await train({ model, data: writeIds('train', 600, 1), valData: writeIds('val', 200, 2), out, optimizer: 'adam', lr: 0.05, epochs: 8, batchSize: 20 });
    const last = result.metrics.at(-1)!;
    // Chance is ~65% (no 7 in 4 draws from 10); the id-7 feature is linearly separable in the mean embedding.
    expect(last.val_accuracy!).toBeGreaterThan(0.95);
    const exported = join(dir, 'bag-trained.onnx');
    await exportRun(out, exported, { checkpoint: 'last' });
    const m = await evaluateModelFile(exported, writeIds('val', 200, 2));
    expect(m.accuracy).toBeCloseTo(last.val_accuracy!, 10);
  });
});
