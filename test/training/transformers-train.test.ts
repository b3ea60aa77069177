// The training half of issue 12's "Done when": every transformers fixture trains through
// `regraft train --data npz:train.npz` with the loss going down (the exported model's loss on the training set
// below the untrained model's), exports, and the export computes what the training step computes with the trained
// weights: the step run on the reference batch with the checkpoint's tensors (lr 0) gives the loss that the exported
// model's logits give in eval. Few steps, tiny batches.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { feedableStep } from '../../src/compile/step-io.js';
import { loadCheckpoint } from '../../src/training/checkpoint.js';
import { evaluateFile } from '../../src/evaluate/index.js';
import { loadModel, modelToBytes } from '../../src/model-io.js';
import { createSession } from '../../src/runtime/index.js';
import { Tensor } from '../../src/runtime/onnxruntime.js';
import { scalar } from '../../src/runtime/tensors.js';
import { LOSS_NAME, LR_NAME } from '../../src/training-interface.js';
import { train } from '../../src/training/trainer.js';
import { runTrainTrial } from '../../src/tune/train-trial.js';
import { runCli } from '../cli/helpers.js';
import { tempDir } from '../data/files.js';
import { transformerFixture, type Exporter } from '../fixtures-npz.js';

const dir = tempDir();

/** The first `rows` rows of each int64 array of a fixture's set, as the API takes named arrays. */
function firstRows(set: ReturnType<ReturnType<typeof transformerFixture>['train']>, rows: number) {
  return (name: string) => {
    const a = set.get(name)!;
    const per = a.shape.slice(1).reduce((x, d) => x * d, 1);
    return { data: (a.data as BigInt64Array).slice(0, rows * per), dims: [rows, ...a.shape.slice(1)] };
  };
}

interface Case {
  name: string;
  exporter: Exporter;
  /** Extra train flags (the loss, fixed dims). */
  flags?: string[];
  /** Rows per update (default 16); ViT's loss starts to fall after some 30 updates, so it takes more, smaller ones. */
  batch?: number;
}

const NAMES: Omit<Case, 'exporter'>[] = [
  { name: 'bert' },
  { name: 'distilbert' },
  { name: 'gpt2', flags: ['--loss', 'causal-lm'] },
  { name: 'vit', batch: 8 },
  { name: 'transformer-encoder' },
  { name: 'bert-token' },
  // Recurrent: the step is unrolled over the training data's sequence length; the export keeps the axis dynamic.
  { name: 'gru' },
  { name: 'lstm' },
];
// transformer-encoder's TorchScript export is left out: tracing nn.MultiheadAttention baked the traced length (10)
// into its Reshape nodes, so onnxruntime cannot run it on train.npz's 12 tokens at all (inference included); it
// trains at its traced length below.
const CASES: Case[] = (['dynamo', 'torchscript'] as const).flatMap((exporter) =>
  NAMES.filter((c) => !(exporter === 'torchscript' && c.name === 'transformer-encoder')).map((c) => ({ ...c, exporter })),
);

describe('transformers fixtures train from npz data and export the trained weights', () => {
  for (const c of CASES) {
    it(`${c.name} (${c.exporter})`, async () => {
      const fixture = transformerFixture(c.name);
      const model = fixture.model(c.exporter);
      const trainSpec = `npz:${join(fixture.dir, 'train.npz')}`;
      const batchSpec = `npz:${join(fixture.dir, 'batch.npz')}`;
      const loss = c.flags?.includes('causal-lm') ? 'causal-lm' : 'cross-entropy';
      const out = join(dir, `${c.name}-${c.exporter}`);
      const exported = `${out}.onnx`;
      const r = await runCli(
        'train', model, '--data', trainSpec, '--out', out, '--val-split', '0', '--epochs', '1', '--batch-size', String(c.batch ?? 16),
        '--optimizer', 'adam', '--lr', '0.003', '--export', exported, ...(c.flags ?? []),
      );
      expect(r.err).toEqual([]);
      expect(r.code).toBe(0);

      // A recurrent step is compiled for the data's sequence length (12); the export keeps the dynamic axis.
      if (c.name === 'gru' || c.name === 'lstm') {
        expect((await loadModel(join(out, 'step.onnx'))).graph.value('x')?.shape).toEqual(['batch', 12, 6]);
        expect((await loadModel(exported)).graph.value('x')?.shape).toEqual(['batch', 'sequence', 6]);
      }

      // The loss goes down: on the training set, after one epoch (16 to 40 updates).
      const before = await evaluateFile(model, trainSpec, { loss });
      const after = await evaluateFile(exported, trainSpec, { loss });
      expect(after.metrics.loss).toBeLessThan(before.metrics.loss * 0.98);

      // The export computes the trained step's forward: the step's loss on the reference batch, fed the last
      // checkpoint's parameters at lr 0, equals the loss eval scores from the exported model's logits.
      const { tensors } = await loadCheckpoint(join(out, 'checkpoints', 'last.onnx'));
      const step = await loadModel(join(out, 'step.onnx'));
      const trained = [...tensors.keys()].filter((name) => step.graph.value(name)?.initializer);
      const session = await createSession(modelToBytes(feedableStep(step, trained).model), { name: 'step' });
      try {
        const feeds: Record<string, Tensor> = { ...fixture.batch(), [LR_NAME]: scalar(0) };
        const inputs = new Set(session.inputNames);
        for (const [name, t] of tensors) if (inputs.has(name)) feeds[name] = new Tensor('float32', t.data, t.dims);
        for (const name of Object.keys(feeds)) if (!inputs.has(name)) delete feeds[name];
        const fetched = await session.run(feeds);
        const stepLoss = (fetched[LOSS_NAME].data as Float32Array)[0];
        const exportLoss = (await evaluateFile(exported, batchSpec, { loss })).metrics.loss;
        expect(Math.abs(stepLoss - exportLoss)).toBeLessThan(1e-5 * Math.max(1, Math.abs(exportLoss)));
      } finally {
        await session.release();
      }
    });
  }
});

describe('the API trains on named typed arrays', () => {
  it('distilbert from Int32Array ids and BigInt64Array masks and labels; the run records the arrays by name', async () => {
    const fixture = transformerFixture('distilbert');
    const slice = firstRows(fixture.train(), 32);
    const ids = slice('input_ids');
    const out = join(dir, 'api-distilbert');
    const result = await train(
      { model: fixture.model('dynamo'), out, epochs: 1, batchSize: 16, valSplit: 0.25, optimizer: 'adam', lr: 0.003 },
      {},
      { data: { input_ids: { data: Int32Array.from(ids.data, Number), dims: ids.dims }, attention_mask: slice('attention_mask'), labels: slice('labels') } },
    );
    expect(result.config.data).toBe('data');
    expect(result.metrics).toHaveLength(1);
    expect(result.metrics[0].val_accuracy).toBeGreaterThanOrEqual(0);
    await expect(
      train({ model: fixture.model('dynamo'), out: join(dir, 'api-bad'), epochs: 1 }, {}, { data: { input_ids: ids, labels: slice('labels') } }),
    ).rejects.toThrow("train: model input 'attention_mask' has no array in data (arrays: input_ids, labels); add one named attention_mask");
  });
});

describe('causal-lm without a labels array', () => {
  it('trains GPT-2 on its input_ids as the labels: the same run as with labels = input_ids given', async () => {
    const fixture = transformerFixture('gpt2');
    const slice = firstRows(fixture.train(), 32);
    const settings = { model: fixture.model('dynamo'), loss: 'causal-lm' as const, epochs: 1, batchSize: 8, valSplit: 0, optimizer: 'adam' as const, lr: 0.003, tensorboard: false };
    const inputs = { input_ids: slice('input_ids'), attention_mask: slice('attention_mask') };
    const implicit = await train({ ...settings, out: join(dir, 'causal-implicit') }, {}, { data: inputs });
    const explicit = await train({ ...settings, out: join(dir, 'causal-explicit') }, {}, { data: { ...inputs, labels: slice('input_ids') } });
    expect(implicit.metrics[0].train_loss).toBeGreaterThan(0);
    expect(implicit.metrics[0].train_loss).toBe(explicit.metrics[0].train_loss);
  });
});

describe("a tuning study's train.data", () => {
  it('takes an npz spec: a trial of GPT-2 with causal-lm reports its validation loss', async () => {
    const fixture = transformerFixture('gpt2');
    const base = { model: fixture.model('dynamo'), data: `npz:${join(fixture.dir, 'train.npz')}`, loss: 'causal-lm' as const, epochs: 1, batchSize: 16, limit: 48, valSplit: 0.25 };
    const reported: number[] = [];
    const metrics = await runTrainTrial(base, { lr: 0.003, optimizer: 'adam' }, {
      trialId: 1, runDir: join(dir, 'trial-1'), seed: 0, threads: 1,
      report: async (epoch: number) => { reported.push(epoch); return 'continue'; },
    } as unknown as Parameters<typeof runTrainTrial>[2]);
    expect(reported).toEqual([1]);
    expect(metrics.val_loss).toBeGreaterThan(0);
    expect(metrics.val_loss).toBeLessThan(Math.log(100) + 0.5);
  });
});

describe("transformer-encoder's TorchScript export, which only runs at its traced length", () => {
  it('trains at that length (10 tokens) from named typed arrays, the loss going down', async () => {
    const fixture = transformerFixture('transformer-encoder');
    const set = fixture.train();
    const traced = 10;
    // The first `traced` tokens of every row of train.npz (12 tokens); labels are per row and kept as they are.
    const cut = (name: string) => {
      const a = set.get(name)!;
      const values = a.data as BigInt64Array;
      if (a.shape.length === 1) return { data: values, dims: [...a.shape] };
      const [rows, length] = a.shape as [number, number];
      const data = new BigInt64Array(rows * traced);
      for (let r = 0; r < rows; r++) data.set(values.subarray(r * length, r * length + traced), r * traced);
      return { data, dims: [rows, traced] };
    };
    const result = await train(
      { model: fixture.model('torchscript'), out: join(dir, 'transformer-encoder-torchscript'), epochs: 2, batchSize: 16, valSplit: 0.25, optimizer: 'adam', lr: 0.003 },
      {},
      { data: { input_ids: cut('input_ids'), attention_mask: cut('attention_mask'), labels: cut('labels') } },
    );
    expect(result.metrics).toHaveLength(2);
    expect(result.metrics[1].train_loss).toBeLessThan(result.metrics[0].train_loss * 0.98);
    expect(result.metrics[1].val_loss!).toBeLessThan(result.metrics[0].val_loss!);
  });
});
