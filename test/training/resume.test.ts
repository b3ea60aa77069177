/**
 * Resume for real: a `regraft train` child process is SIGKILLed mid-run (after its first checkpoint), then
 * `regraft train --resume` finishes the run; the final weights must equal, bit for bit, those of an uninterrupted
 * run with the same settings. The child runs dist/ (see fixtures/child.ts).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildMlp } from '../../src/models/builders.js';
import { loadCheckpoint } from '../../src/training/checkpoint.js';
import type { TrainConfig } from '../../src/training/config.js';
import { train } from '../../src/training/trainer.js';
import { runCli } from '../cli/helpers.js';
import { assertDistIsFresh, metricLines, startCli, waitFor } from './fixtures/child.js';
import { bytesOf, checkpointTensors, readMetrics, tempDir, writeModel } from './fixtures/runs.js';

const dir = tempDir('resume');

describe('resume after SIGKILL', () => {
  it('finishes with exactly the weights of an uninterrupted run (Dropout, momentum, validation split)', async () => {
    assertDistIsFresh();
    const model = await writeModel(buildMlp({ hidden: [128], seed: 2 }), dir, 'mlp128.onnx');
    const runDir = join(dir, 'killed');
    // 5400 training samples in batches of 32: about half a second per epoch, so the kill lands inside an epoch.
    const args = ['train', model, '--data', 'mnist:test', '--limit', '6000', '--val-split', '0.1', '--batch-size', '32', '--epochs', '3', '--lr', '0.05',
      '--optimizer', 'momentum', '--dropout-after', 'Relu', '--dropout-ratio', '0.3', '--seed', '11', '--threads', '1', '--out', runDir];
    const first = startCli(args);
    await waitFor(() => metricLines(runDir) >= 1 && existsSync(join(runDir, 'checkpoints', 'last.onnx')), first.exited, 'the first epoch finished');
    first.child.kill('SIGKILL');
    const killed = await first.exited;
    expect(killed.signal).toBe('SIGKILL');
    const { state } = await loadCheckpoint<{ epochsDone: number }>(join(runDir, 'checkpoints', 'last.onnx'));
    expect(state.epochsDone).toBeGreaterThanOrEqual(1);
    expect(state.epochsDone).toBeLessThan(3);

    const resumed = startCli(['train', '--resume', '--out', runDir]);
    const done = await resumed.exited;
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    expect(done.stdout).toContain(`resuming ${runDir} after epoch ${state.epochsDone} of 3`);
    expect(readMetrics(runDir).map((m) => m.epoch)).toEqual([1, 2, 3]);

    // The uninterrupted reference, in-process, from the run's own stored settings.
    const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as TrainConfig;
    const reference = await train({ ...config, out: join(dir, 'uninterrupted') });

    const lossesOf = (ms: { train_loss: number; val_loss?: number; val_accuracy?: number }[]) => ms.map((m) => [m.train_loss, m.val_loss, m.val_accuracy]);
    expect(lossesOf(readMetrics(runDir))).toEqual(lossesOf(reference.metrics));
    for (const which of ['last', 'best'] as const) {
      const got = await checkpointTensors(runDir, which);
      const want = await checkpointTensors(reference.runDir, which);
      expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
      // Parameters and the momentum buffers, bit for bit.
      expect([...got.keys()].some((n) => n.endsWith('.momentum_buffer'))).toBe(true);
      for (const [name, t] of want) expect(bytesOf(got.get(name)!.data).equals(bytesOf(t.data)), `${which}: ${name}`).toBe(true);
    }
  });

  it('--resume of a directory without a run is a one-line error, exit 1', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const r = await runCli('train', '--resume', '--out', empty);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([`regraft: ${empty}: no config.json to resume from; start the run without --resume`]);
  });

  it('resuming a finished run trains nothing more; repeating its command with --resume and more --epochs extends it, other changes are refused', async () => {
    const model = await writeModel(buildMlp({ hidden: [8], seed: 2 }), dir, 'mlp8.onnx');
    const out = join(dir, 'finished');
    const args = ['train', model, '--data', 'mnist:test', '--limit', '200', '--lr', '0.1', '--epochs', '2', '--out', out];
    expect((await runCli(...args)).code).toBe(0);
    const before = readFileSync(join(out, 'metrics.jsonl'), 'utf8');
    const again = await runCli('train', '--resume', '--out', out);
    expect(again.code).toBe(0);
    expect(again.out.some((l) => l.startsWith('Epoch '))).toBe(false);
    expect(readFileSync(join(out, 'metrics.jsonl'), 'utf8')).toBe(before);

    const longer = await runCli(...args, '--resume', '--epochs', '3');
    expect(longer.err).toEqual([]);
    expect(longer.out.filter((l) => l.startsWith('Epoch '))).toHaveLength(1);
    expect(readFileSync(join(out, 'metrics.jsonl'), 'utf8').startsWith(before)).toBe(true);
    expect(readMetrics(out).map((m) => m.epoch)).toEqual([1, 2, 3]);

    // A setting that would change what the run computes (--lr) is refused, not silently ignored.
    const r = await runCli('train', '--resume', '--out', out, '--lr', '0.5', '--epochs', '4');
    expect(r.code).toBe(1);
    expect(r.err).toEqual([
      `regraft: ${out}: lr is 0.5 here but 0.1 in the run's config.json; a resumed run keeps its settings (only epochs, ep, strict, stepsPerRun and threads may change), so drop it or start a new run`,
    ]);
    expect(readMetrics(out)).toHaveLength(3);
  });
});
