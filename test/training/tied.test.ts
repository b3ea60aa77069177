// A tied embedding and output layer through the whole trainer: trained as one tensor, written to checkpoints as
// both initializers (the copy the exact transpose), exported with both equal; --untie trains them apart.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNpy } from '../../src/data/npy.js';
import { DataType, GraphBuilder, newModel, tensorToFloat32 } from '../../src/ir/index.js';
import { loadModel } from '../../src/model-io.js';
import { evaluateFile } from '../../src/evaluate/index.js';
import { exportRun } from '../../src/training/export.js';
import { train } from '../../src/training/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { transpose2d } from '../fixtures-npz.js';
import { checkpointTensors, readMetrics, tempDir, writeModel } from './fixtures/runs.js';

const dir = tempDir('tied');
const VOCAB = 12;
const DIM = 6;

/** ids [N] -> Gather(E [12, 6]) -> Tanh -> MatMul(head [6, 12] = Eᵀ, a separate initializer) -> Add(b) -> logits [N, 12]. */
function tiedLm() {
  const model = newModel({ opset: 17 });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const rng = new Rng(3);
  const embedding = Float32Array.from({ length: VOCAB * DIM }, () => 0.5 * rng.normal());
  const ids = g.addInput('ids').setTensorType(DataType.INT64, ['N']);
  const h = b.op('Tanh', [b.op('Gather', [b.floatInit('embedding', embedding, [VOCAB, DIM]), ids])]);
  const scores = b.op('MatMul', [h, b.floatInit('head', transpose2d(embedding, VOCAB, DIM), [DIM, VOCAB])]);
  const logits = b.op('Add', [scores, b.floatInit('head.bias', new Float32Array(VOCAB), [VOCAB])], {}, { output: 'logits' });
  g.addOutput(logits.setTensorType(DataType.FLOAT, ['N', VOCAB]));
  return model;
}

/** Next-id data: label = (id + 1) mod 12. */
function writeData(name: string, n: number, seed: number): string {
  const rng = new Rng(seed);
  const ids = BigInt64Array.from({ length: n }, () => BigInt(rng.int(VOCAB)));
  const labels = ids.map((id) => (id + 1n) % BigInt(VOCAB));
  writeFileSync(join(dir, `${name}-x.npy`), encodeNpy('<i8', [n], ids));
  writeFileSync(join(dir, `${name}-y.npy`), encodeNpy('<i8', [n], labels));
  return `npy:${join(dir, `${name}-x.npy`)},${join(dir, `${name}-y.npy`)}`;
}

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('tied weights in a training run', () => {
  it('train as one tensor; checkpoints and the export hold both, the copy the exact transpose', async () => {
    const model = await writeModel(tiedLm(), dir, 'tied.onnx');
    const valData = writeData('val', 60, 6);
    const settings = { model, data: writeData('train', 240, 5), valData, epochs: 3, batchSize: 24, optimizer: 'adam' as const, lr: 0.05 };
    const lines: string[] = [];
    await train({ ...settings, out: join(dir, 'run') }, { log: (l) => lines.push(l) });
    expect(lines).toContain('tied weights: head is the transpose of embedding, trained as one tensor (--untie trains them apart)');
    const tensors = await checkpointTensors(join(dir, 'run'));
    // One optimizer state: the copy has none.
    expect([...tensors.keys()].filter((k) => k.startsWith('head.') && k !== 'head.bias' && !k.startsWith('head.bias.'))).toEqual([]);
    const embedding = tensors.get('embedding')!;
    const head = tensors.get('head')!;
    expect(head.dims).toEqual([DIM, VOCAB]);
    expect(bits(head.data).equals(bits(transpose2d(embedding.data, VOCAB, DIM)))).toBe(true);
    const initial = tensorToFloat32((await loadModel(model)).graph.requireValue('embedding').initializer!);
    expect(bits(embedding.data).equals(bits(initial))).toBe(false);

    const exported = join(dir, 'tied-export.onnx');
    await exportRun(join(dir, 'run'), exported, { checkpoint: 'last' });
    const g = (await loadModel(exported)).graph;
    const e = tensorToFloat32(g.requireValue('embedding').initializer!);
    const hd = tensorToFloat32(g.requireValue('head').initializer!);
    expect(bits(e).equals(bits(embedding.data))).toBe(true);
    expect(bits(hd).equals(bits(transpose2d(e, VOCAB, DIM)))).toBe(true);
    // Validation fed the copy from the parameter too: its loss is the exported model's own loss on the same data.
    const scored = await evaluateFile(exported, valData, { loss: 'cross-entropy' });
    expect(scored.metrics.loss).toBeCloseTo(readMetrics(join(dir, 'run')).at(-1)!.val_loss!, 6);

    // Untied, the same run trains two tensors that drift apart, and learns on its own path.
    await train({ ...settings, out: join(dir, 'untied'), untie: true });
    const untied = await checkpointTensors(join(dir, 'untied'));
    expect(untied.has('head.exp_avg')).toBe(true);
    expect(bits(untied.get('head')!.data).equals(bits(transpose2d(untied.get('embedding')!.data, VOCAB, DIM)))).toBe(false);
  });
});
