/**
 * The regraft side of `npm run bench -- vs-pytorch` and `-- transformer`, one run per process so that each run's
 * peak RSS is its own:
 *
 *   node .bench/bench/vs-pytorch-worker.js DIR NAME BATCH THREADS EPOCHS
 *
 * trains DIR/NAME.onnx (made by bench/pytorch/workloads.py) on its data as the PyTorch side does (cross-entropy,
 * Adam lr 1e-3, the same batch size and Dropout) and prints one JSON line: samples/s and mean loss per epoch, peak RSS.
 * Single-input workloads go through `train()`, regraft's trainer loop; the multi-input BERT drives the compiled
 * step with StepRunner, the loop `train()` runs, because `train` reads single-input data only on this branch.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseNpy } from '../src/data/npy.js';
import { loadModel, modelToBytes } from '../src/model-io.js';
import { compileTrainStep } from '../src/compile/compile.js';
import { Tensor } from '../src/runtime/onnxruntime.js';
import { createSession } from '../src/runtime/session.js';
import { StepRunner, stepModels } from '../src/training/step-runner.js';
import { train } from '../src/training/trainer.js';
import type { TrainConfig } from '../src/training/config.js';

/** Dropout as the PyTorch modules of workloads.py have it (their exports, in eval form, have none). */
const DROPOUT: Record<string, Pick<TrainConfig, 'dropoutAfter' | 'dropoutAfterNode' | 'dropoutRatio'>> = {
  'mlp-32': { dropoutAfter: ['Relu'], dropoutAfterNode: [], dropoutRatio: 0.5 },
  'mlp-128': { dropoutAfter: ['Relu'], dropoutAfterNode: [], dropoutRatio: 0.5 },
  // nn.TransformerEncoderLayer's four places: attention probabilities, the attention and feed-forward outputs
  // before their residual Add, and after the feed-forward ReLU.
  transformer: { dropoutAfter: ['Softmax', 'Relu'], dropoutAfterNode: ['*/out/Add', '*/ff2/Add'], dropoutRatio: 0.1 },
};

/** The data inputs of the multi-input workloads, by model input name. */
const NAMED_INPUTS: Record<string, string[]> = { bert: ['input_ids', 'attention_mask'] };

export interface WorkerResult {
  samples_per_sec: number[];
  train_loss: number[];
  peak_rss: number;
}

async function trainWithTrainer(dir: string, name: string, batch: number, threads: number, epochs: number): Promise<WorkerResult> {
  const out = await mkdtemp(join(tmpdir(), `regraft-bench-${name}-`));
  try {
    const result = await train({
      model: join(dir, `${name}.onnx`),
      data: `npy:${join(dir, `${name}-x.npy`)},${join(dir, `${name}-y.npy`)}`,
      out: join(out, 'run'),
      epochs,
      batchSize: batch,
      valSplit: 0,
      optimizer: 'adam',
      lr: 1e-3,
      threads,
      ...(DROPOUT[name] ?? {}),
    });
    return {
      samples_per_sec: result.metrics.map((m) => m.samples_per_sec),
      train_loss: result.metrics.map((m) => m.train_loss),
      peak_rss: process.resourceUsage().maxRSS * 1024,
    };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

function int64Rows(array: ReturnType<typeof parseNpy>, from: number, rows: number): Tensor {
  const row = array.shape.slice(1).reduce((a, b) => a * b, 1);
  const data = (array.data as BigInt64Array).subarray(from * row, (from + rows) * row);
  return new Tensor('int64', data, [rows, ...array.shape.slice(1)]);
}

async function trainStepDirectly(dir: string, name: string, batch: number, threads: number, epochs: number): Promise<WorkerResult> {
  const step = compileTrainStep(await loadModel(join(dir, `${name}.onnx`)), { loss: 'cross-entropy', optimizer: { kind: 'adam' } });
  const models = stepModels(step);
  const carried = new Map([...models.initial].map(([n, t]) => [n, new Tensor('float32', t.data, t.dims)]));
  const session = await createSession(modelToBytes(models.step), { intraOpThreads: threads, name: `${name} step` });
  const runner = new StepRunner(step, session, undefined, carried);
  const read = (file: string) => parseNpy(readFileSync(join(dir, file)), file);
  const inputs = NAMED_INPUTS[name].map((input) => [input, read(`${name}-${input}.npy`)] as const);
  const labels = read(`${name}-y.npy`);
  const samples = labels.shape[0];
  const rates: number[] = [];
  const losses: number[] = [];
  for (let e = 0; e < epochs; e++) {
    const t0 = performance.now();
    let total = 0;
    for (let i = 0; i + batch <= samples; i += batch) {
      const feeds: Record<string, Tensor> = { [step.labels]: int64Rows(labels, i, batch) };
      for (const [input, array] of inputs) feeds[input] = int64Rows(array, i, batch);
      total += (await runner.run({ feeds, weight: 1, last: true, lr: 1e-3 })) * batch;
    }
    rates.push(samples / ((performance.now() - t0) / 1000));
    losses.push(total / samples);
  }
  await session.release();
  return { samples_per_sec: rates, train_loss: losses, peak_rss: process.resourceUsage().maxRSS * 1024 };
}

const [dir, name, batch, threads, epochs] = process.argv.slice(2);
const run = name in NAMED_INPUTS ? trainStepDirectly : trainWithTrainer;
console.log(JSON.stringify(await run(dir, name, Number(batch), Number(threads), Number(epochs))));
