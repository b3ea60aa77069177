import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { probeInstalledCuda } from '../../src/runtime/execution-provider.js';
import type { TrainConfig } from '../../src/training/config.js';
import { evaluateModelFile } from '../../src/evaluate/classification.js';
import { checkpointTensors, MNIST_SUBSET, readMetrics, tempDir, writeMnistNpy, writeSmallMlp } from '../training/fixtures/runs.js';
import { runCli } from './helpers.js';

const dir = tempDir('train-cli');
const MODEL = writeSmallMlp(dir);
const CUDA_HINT = 'ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node';

const runConfig = (out: string) => JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as TrainConfig;

/** Every TrainConfig key, none at its default, so that a key the CLI drops shows up in the run's config.json. */
async function everySetting(out: string): Promise<TrainConfig> {
  return {
    model: await MODEL,
    data: MNIST_SUBSET,
    valData: await writeMnistNpy(dir, 'val', 60),
    valSplit: 0.2,
    target: 'logits',
    out,
    epochs: 2,
    batchSize: 50,
    lr: 0.05,
    schedule: 'step',
    warmup: 1,
    stepSize: 1,
    gamma: 0.5,
    optimizer: 'momentum',
    momentum: 0.8,
    nesterov: true,
    weightDecay: 0.02,
    clipGradNorm: 5,
    loss: 'cross-entropy',
    classAxis: 1,
    ignoreIndex: -1,
    l2: 0.0001,
    l1: 0.00001,
    penalize: ['all'],
    accumulate: 2,
    dropoutAfter: ['Relu'],
    dropoutAfterNode: ['fc1*'],
    dropoutRatio: 0.2,
    freeze: ['fc2.bias'],
    train: ['fc1.weight'],
    untie: true,
    patience: 3,
    seed: 4,
    ep: 'cpu',
    strict: true,
    stepsPerRun: 3,
    threads: 1,
    limit: 200,
    tensorboard: false,
  };
}

describe('regraft train --config', () => {
  it('a JSON file holds every setting; the run records exactly them and trains by them', async () => {
    const out = join(dir, 'json-run');
    const settings = await everySetting(out);
    const file = join(dir, 'train.json');
    writeFileSync(file, JSON.stringify(settings));
    const r = await runCli('train', '--config', file);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(runConfig(out)).toEqual(settings);
    // Step decay by 0.5 after epoch 1; 4 batches of 50 make 2 updates of 2 micro-batches an epoch, and a warmup of
    // one epoch (2 updates) halves epoch 1's first update.
    expect(readMetrics(out).map((m) => m.lr)).toEqual([0.025, 0.025]);
    expect(r.out.some((l) => l.startsWith('inserted 2 Dropout (ratio 0.2) after Relu, fc1*'))).toBe(true);
    // Frozen: not carried, so not in the checkpoint.
    expect([...(await checkpointTensors(out)).keys()].sort()).toEqual(
      ['fc1.bias', 'fc1.bias.momentum_buffer', 'fc1.weight', 'fc1.weight.momentum_buffer', 'fc2.weight', 'fc2.weight.momentum_buffer'],
    );
  });

  it('a YAML file may spell settings as flags (batch-size); flags given on the command line override it', async () => {
    const out = join(dir, 'yaml-run');
    const { batchSize, dropoutAfter, ...rest } = await everySetting(join(dir, 'overridden'));
    const file = join(dir, 'train.yaml');
    writeFileSync(file, toYaml({ ...rest, 'batch-size': batchSize, 'dropout-after': dropoutAfter.join(',') }));
    const r = await runCli('train', '--config', file, '--out', out, '--epochs', '1', '--lr', '0.2', '--dropout-after', 'Gemm', '--batch-size', '40');
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, 'overridden'))).toBe(false);
    expect(runConfig(out)).toEqual({ ...rest, out, epochs: 1, lr: 0.2, dropoutAfter: ['Gemm'], batchSize: 40 });
  });

  it('a positional MODEL overrides the file\'s model', async () => {
    const other = await writeSmallMlp(dir, { hidden: [8] }, 'other.onnx');
    const file = join(dir, 'model-in-file.yaml');
    writeFileSync(file, `model: ${await MODEL}\ndata: ${MNIST_SUBSET}\nlimit: 100\nepochs: 1\nvalSplit: 0\n`);
    const out = join(dir, 'positional');
    const r = await runCli('train', other, '--config', file, '--out', out);
    expect(r.code).toBe(0);
    expect(runConfig(out).model).toBe(other);
  });

  it('an unknown key is a one-line error naming the file, the key and the nearest known key, exit 1, and nothing is written', async () => {
    const file = join(dir, 'typo.yaml');
    writeFileSync(file, `model: ${await MODEL}\ndata: ${MNIST_SUBSET}\nepochz: 3\n`);
    const out = join(dir, 'typo-run');
    const r = await runCli('train', '--config', file, '--out', out);
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(new RegExp(`^regraft: ${file}: unknown setting 'epochz'; did you mean 'epochs'\\? \\(known: model, data, `));
    expect(existsSync(out)).toBe(false);
  });

  it('a bad value in the file names the file and the setting (exit 1)', async () => {
    const file = join(dir, 'bad-value.json');
    writeFileSync(file, JSON.stringify({ model: await MODEL, data: MNIST_SUBSET, out: join(dir, 'bad-value'), batchSize: 0 }));
    const r = await runCli('train', '--config', file);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([`regraft: ${file}: batchSize must be a positive integer, got 0`]);
  });
});

describe('regraft train: execution provider', () => {
  const cuda = probeInstalledCuda();

  it('--ep cuda without the CUDA provider says once how to install it and trains on CPU', async () => {
    const out = join(dir, 'cuda-fallback');
    const r = await runCli('train', await MODEL, '--data', MNIST_SUBSET, '--limit', '200', '--epochs', '2', '--ep', 'cuda', '--out', out);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(readMetrics(out)).toHaveLength(2);
    const hints = r.out.filter((l) => l.includes(CUDA_HINT));
    // On a machine with the CUDA provider installed the same command trains on the GPU without a hint.
    expect(hints).toHaveLength(cuda.available ? 0 : 1);
    if (!cuda.available) expect(hints[0]).toMatch(/^CUDA unavailable \(.+\); running on CPU\. To use the GPU, install it with/);
  });

  it('--ep cuda --strict without the CUDA provider fails with a one-line error, exit 1, before writing the run', async () => {
    const out = join(dir, 'cuda-strict');
    const r = await runCli('train', await MODEL, '--data', MNIST_SUBSET, '--limit', '200', '--epochs', '1', '--ep', 'cuda', '--strict', '--out', out);
    // With the CUDA provider installed, strict simply trains on the GPU.
    expect(r.code).toBe(cuda.available ? 0 : 1);
    if (cuda.available) return;
    expect(r.out.filter((l) => l.includes(CUDA_HINT))).toEqual([]);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/^regraft: CUDA was requested but .+; install it with `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node --dangerously-allow-all-scripts` .*, or use --ep cpu$/);
    expect(existsSync(out)).toBe(false);
  });

  // onnxruntime-node bundles WebGPU; on a machine without a GPU (CI, these VMs) its adapter request fails. With a
  // GPU the same commands train on it and print no fallback line.
  const webgpuFallback = /^WebGPU failed to start for a one-node test model \(Failed to get a WebGPU adapter: [^)]+\); running on CPU$/;

  it('--ep webgpu without a GPU adapter says so once and trains on CPU', async () => {
    const out = join(dir, 'webgpu-fallback');
    const r = await runCli('train', await MODEL, '--data', MNIST_SUBSET, '--limit', '200', '--epochs', '2', '--ep', 'webgpu', '--out', out);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(readMetrics(out)).toHaveLength(2);
    const notices = r.out.filter((l) => l.startsWith('WebGPU'));
    expect(notices.length).toBeLessThanOrEqual(1);
    if (notices.length === 1) expect(notices[0]).toMatch(webgpuFallback);
  });

  it('--ep webgpu --strict without a GPU adapter fails with one line, exit 1, before writing the run', async () => {
    const out = join(dir, 'webgpu-strict');
    const r = await runCli('train', await MODEL, '--data', MNIST_SUBSET, '--limit', '200', '--epochs', '1', '--ep', 'webgpu', '--strict', '--out', out);
    if (r.code === 0) return; // a GPU adapter was found: strict trains on it
    expect(r.code).toBe(1);
    expect(r.err).toEqual([
      expect.stringMatching(/^regraft: WebGPU failed to start for a one-node test model: Failed to get a WebGPU adapter: [^;]+; run on a machine with a GPU and its Vulkan driver .*, or use --ep cpu$/),
    ]);
    expect(existsSync(out)).toBe(false);
  });

  it('--ep takes cpu, cuda or webgpu only (exit 2)', async () => {
    const r = await runCli('train', await MODEL, '--data', MNIST_SUBSET, '--ep', 'metal', '--out', join(dir, 'metal'));
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toMatch(/--ep.*cpu, cuda, webgpu/);
  });
});

describe('regraft train: errors and the export flow', () => {
  it('a CSV with the wrong feature count is a one-line error naming the data and the input (exit 1)', async () => {
    const csv = join(dir, 'three-features.csv');
    writeFileSync(csv, Array.from({ length: 12 }, (_, i) => `0.1,0.2,0.3,${i % 2}`).join('\n') + '\n');
    const out = join(dir, 'csv-run');
    const r = await runCli('train', await MODEL, '--data', csv, '--out', out);
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toContain(`data '${csv}' has samples of shape [3] (3 values) but model input 'input' has shape [N,784]`);
    expect(existsSync(out)).toBe(false);
  });

  it('a second run into a directory that holds one is refused (exit 1); missing --data or --out is a usage error (exit 2)', async () => {
    const out = join(dir, 'twice');
    const args = ['train', await MODEL, '--data', MNIST_SUBSET, '--limit', '100', '--epochs', '1', '--out', out];
    expect((await runCli(...args)).code).toBe(0);
    const again = await runCli(...args);
    expect(again.code).toBe(1);
    expect(again.err).toEqual([`regraft: ${out}: already holds a run; continue it with --resume or choose another --out`]);
    expect((await runCli('train', await MODEL, '--out', join(dir, 'no-data'))).code).toBe(2);
    expect((await runCli('train', await MODEL, '--data', MNIST_SUBSET)).code).toBe(2);
  });

  it('--export --test writes the inference model and prints the accuracy that eval finds', async () => {
    const out = join(dir, 'export-flow');
    const exported = join(dir, 'flow.onnx');
    const testSpec = await writeMnistNpy(dir, 'flow-test', 300);
    const r = await runCli('train', await MODEL, '--data', MNIST_SUBSET, '--limit', '300', '--epochs', '2', '--lr', '0.1', '--dropout-after', 'Relu', '--out', out, '--export', exported, '--test', testSpec);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const m = await evaluateModelFile(exported, testSpec);
    expect(r.out.at(-1)).toBe(`test accuracy on ${testSpec}: ${(100 * m.accuracy).toFixed(2)}% (loss ${m.loss.toFixed(4)}, 300 samples)`);
    const evalJson = await runCli('eval', exported, '--data', testSpec, '--json');
    expect(evalJson.out[0]).toMatch(/^\{"accuracy": [0-9.]+, "loss": /);
    expect(JSON.parse(evalJson.out[0]).accuracy).toBe(m.accuracy);
  });
});

describe('regraft train: optimizer flags that would do nothing', () => {
  it('--optimizer sgd --momentum is refused with the flag to use (exit 2), before anything is written', async () => {
    const out = join(dir, 'sgd-momentum');
    const r = await runCli('train', await MODEL, '--data', MNIST_SUBSET, '--out', out, '--optimizer', 'sgd', '--momentum', '0.9');
    expect(r.code).toBe(2);
    expect(r.err).toEqual([
      "regraft: train: --momentum 0.9 does nothing with --optimizer sgd: for SGD with momentum (PyTorch's SGD(momentum=...)) use --optimizer momentum",
    ]);
    expect(existsSync(out)).toBe(false);
  });

  it('--nesterov with adam and --weight-decay without adamw are refused; a config file holding them is not', async () => {
    const base = ['train', await MODEL, '--data', MNIST_SUBSET, '--out', join(dir, 'never')];
    const nesterov = await runCli(...base, '--optimizer', 'adam', '--nesterov');
    expect(nesterov.err).toEqual(['regraft: train: --nesterov does nothing with --optimizer adam: adam has no momentum setting']);
    const decay = await runCli(...base, '--weight-decay', '0.1');
    expect(decay.err).toEqual([
      "regraft: train: --weight-decay 0.1 does nothing with --optimizer sgd: it is AdamW's decoupled decay; for an L2 penalty use --l2",
    ]);
    // A run's own config.json lists every setting, momentum included; feeding it back must keep working.
    const file = join(dir, 'full-config.json');
    writeFileSync(file, JSON.stringify({ model: await MODEL, data: MNIST_SUBSET, optimizer: 'adam', momentum: 0.9, weightDecay: 0.01, epochs: 1, limit: 100, valSplit: 0 }));
    const fromFile = await runCli('train', '--config', file, '--out', join(dir, 'full-config-run'));
    expect(fromFile.err).toEqual([]);
    expect(fromFile.code).toBe(0);
  });
});
