/**
 * The regraft side of `npm run bench -- vs-pytorch` and `-- transformer`, one run per process so that each run's
 * peak RSS is its own:
 *
 *   node .bench/bench/vs-pytorch-worker.js DIR NAME BATCH THREADS EPOCHS [STEPS_PER_RUN]
 *
 * trains DIR/NAME.onnx (made by bench/pytorch/workloads.py) on its data as the PyTorch side does (cross-entropy,
 * Adam lr 1e-3, the same batch size and Dropout) and prints one JSON line: samples/s and mean loss per epoch, peak RSS.
 * Every workload goes through `train()`, regraft's trainer loop; the two-input BERT reads its arrays by name
 * (`npy:input_ids=...,attention_mask=...,labels=...`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

function dataSpec(dir: string, name: string): string {
  const inputs = NAMED_INPUTS[name];
  if (!inputs) return `npy:${join(dir, `${name}-x.npy`)},${join(dir, `${name}-y.npy`)}`;
  return `npy:${[...inputs.map((input) => `${input}=${join(dir, `${name}-${input}.npy`)}`), `labels=${join(dir, `${name}-y.npy`)}`].join(',')}`;
}

async function trainWithTrainer(dir: string, name: string, batch: number, threads: number, epochs: number, stepsPerRun?: number): Promise<WorkerResult> {
  const out = await mkdtemp(join(tmpdir(), `regraft-bench-${name}-`));
  try {
    const result = await train({
      model: join(dir, `${name}.onnx`),
      data: dataSpec(dir, name),
      out: join(out, 'run'),
      epochs,
      batchSize: batch,
      valSplit: 0,
      optimizer: 'adam',
      lr: 1e-3,
      threads,
      ...(stepsPerRun !== undefined && { stepsPerRun }),
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

const [dir, name, batch, threads, epochs, stepsPerRun] = process.argv.slice(2);
const result = await trainWithTrainer(dir, name, Number(batch), Number(threads), Number(epochs), stepsPerRun === undefined ? undefined : Number(stepsPerRun));
console.log(JSON.stringify(result));
