/**
 * Trainer benchmark: a whole `train()` epoch at one step per onnxruntime run against the bare loop of onnxruntime
 * calls on the same step model and the same batches (the trainer's own overhead), and `train()` at the default
 * steps per run against one (what the Scan of compile/scan-steps.ts saves), alternating in one process; and the
 * process's memory across epochs (it must stay flat).
 */
import { DEFAULT_STEPS_PER_RUN } from '../src/training/steps-per-run.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../src/runtime/onnxruntime.js';
import { BatchLoader, loadDataset, subsetDataset } from '../src/data/index.js';
import { loadModel, modelToBytes, saveModel } from '../src/model-io.js';
import { buildMlp } from '../src/models/builders.js';
import { createSession } from '../src/runtime/session.js';
import { scalar } from '../src/runtime/tensors.js';
import { LABELS_NAME, LR_NAME } from '../src/training-interface.js';
import { carriedOf, feedableStep } from '../src/compile/step-io.js';
import { train } from '../src/training/trainer.js';

export const TARGET_RATIO = 0.9;
const SAMPLES = 20_000;
const BATCH = 64;

async function bareEpoch(stepPath: string, seed: number): Promise<number> {
  const carried = carriedOf(await loadModel(stepPath)).map((c): [string, string] => [c.input, c.output]);
  const step = feedableStep(await loadModel(stepPath), carried.map(([input]) => input));
  const feeds: Record<string, Tensor> = {};
  for (const [name, t] of step.initial) feeds[name] = new Tensor('float32', t.data, t.dims);
  feeds[LR_NAME] = scalar(0.05);
  const session = await createSession(modelToBytes(step.model), { intraOpThreads: 1, name: 'bare step' });
  const data = subsetDataset(await loadDataset('mnist'), SAMPLES);
  const loader = new BatchLoader(data, { batchSize: BATCH, seed, sampleShape: [784] });
  const t0 = performance.now();
  let seen = 0;
  for (const batch of loader.batches(0)) {
    feeds.input = new Tensor('float32', batch.features, batch.featureDims);
    feeds[LABELS_NAME] = new Tensor('int64', batch.labels, [batch.size]);
    const out = await session.run(feeds);
    for (const [i, o] of carried) feeds[i] = out[o];
    seen += batch.size;
  }
  const rate = seen / ((performance.now() - t0) / 1000);
  await session.release();
  return rate;
}

export async function benchTrainer(opts: { rounds?: number } = {}): Promise<string> {
  const rounds = opts.rounds ?? 3;
  const dir = await mkdtemp(join(tmpdir(), 'regraft-bench-trainer-'));
  try {
    const modelPath = join(dir, 'mlp.onnx');
    await saveModel(buildMlp({ hidden: [128] }), modelPath);
    const trainerRates: number[] = [];
    const scanRates: number[] = [];
    const bareRates: number[] = [];
    const rss: number[] = [];
    const many = DEFAULT_STEPS_PER_RUN;
    for (let r = 0; r < rounds; r++) {
      const run = (stepsPerRun: number) =>
        train({
          model: modelPath, data: 'mnist', out: join(dir, `run${r}-${stepsPerRun}`), epochs: 3, limit: SAMPLES, valSplit: 0, batchSize: BATCH,
          lr: 0.05, optimizer: 'sgd', l2: 1e-4, dropoutAfter: ['Relu'], seed: r, stepsPerRun,
        }, { onEpoch: () => void rss.push(process.memoryUsage().rss) });
      // Epoch 1 includes warm-up; epochs 2-3 are the steady state the others are compared with.
      const result = await run(1);
      trainerRates.push(...result.metrics.slice(1).map((m) => m.samples_per_sec));
      bareRates.push(await bareEpoch(join(result.runDir, 'step.onnx'), r));
      scanRates.push(...(await run(many)).metrics.slice(1).map((m) => m.samples_per_sec));
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const ratio = mean(trainerRates) / mean(bareRates);
    const mib = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MiB`;
    const rate = (xs: number[]) => `${Math.round(mean(xs)).toLocaleString('en-US')} samples/s`;
    return [
      `trainer: MLP 784-128-10 with Dropout and L2 on ${SAMPLES.toLocaleString('en-US')} MNIST samples, batch ${BATCH}, 1 thread, ${rounds} alternating rounds`,
      `  train() epoch at 1 step per run ${rate(trainerRates)}, bare onnxruntime loop ${rate(bareRates)}, ratio ${ratio.toFixed(3)} (target >= ${TARGET_RATIO}: ${ratio >= TARGET_RATIO ? 'met' : 'MISSED'})`,
      `  train() epoch at ${many} steps per run (the default) ${rate(scanRates)}: ${(mean(scanRates) / mean(trainerRates)).toFixed(2)}x one step per run`,
      `  RSS after each epoch: ${rss.map(mib).join(', ')} (flat: ${Math.max(...rss.slice(6)) - Math.min(...rss.slice(6)) < 64 * 1024 * 1024 ? 'yes' : 'NO'}, within 64 MiB after the first round)`,
    ].join('\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
