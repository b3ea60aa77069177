/**
 * `regraft train` stopped from outside, as real child processes: Ctrl-C (SIGINT) and SIGTERM end it at a batch
 * boundary with one line (where it stopped, which checkpoint holds, the --resume command) and exit 130/143; a
 * second Ctrl-C during a checkpoint write exits at once and leaves no temp file; SIGKILLs during checkpoint writes
 * do leave temp files, and the next start of the run sweeps them. Before issue #14: exit 130/143 with no word, and
 * 6 temp files (3.7 MB) left per 22 kills that nothing removed.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildMlp } from '../../src/models/builders.js';
import { loadCheckpoint } from '../../src/training/checkpoint.js';
import { RunInterrupted } from '../../src/training/run-stop.js';
import { train } from '../../src/training/trainer.js';
import { tempFilesIn } from '../../src/util/atomic-file.js';
import { assertDistIsFresh, metricLines, startCli, waitFor } from './fixtures/child.js';
import { MNIST_SUBSET, readMetrics, tempDir, writeModel } from './fixtures/runs.js';

const dir = tempDir('signals');
let small: string;
let large: string;

beforeAll(async () => {
  assertDistIsFresh(['training/trainer', 'training/run-stop', 'cli/train', 'cli/stop-signals', 'util/atomic-file']);
  small = await writeModel(buildMlp({ hidden: [32], seed: 3 }), dir, 'small.onnx');
  // 784-8192-10 with momentum: checkpoints of 52 MB, so a write (and its fsync) lasts long enough to land in. (At 26
  // MB, once checkpoints stopped copying the tensors before writing, five tries in a row could miss the write.)
  large = await writeModel(buildMlp({ hidden: [8192], seed: 3 }), dir, 'large.onnx');
});

/** Every temp file anywhere in a run directory. */
function tempFilesOfRun(runDir: string): string[] {
  return [...tempFilesIn(runDir), ...tempFilesIn(join(runDir, 'checkpoints')).map((n) => join('checkpoints', n))];
}

const trainArgs = (model: string, out: string, extra: string[] = []) =>
  ['train', model, '--data', MNIST_SUBSET, '--limit', '3000', '--val-split', '0.1', '--batch-size', '16', '--epochs', '40', '--optimizer', 'momentum', '--out', out, ...extra];

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Epochs in checkpoints/last.onnx (0 before the first one). */
async function epochsInCheckpoint(runDir: string): Promise<number> {
  if (!existsSync(join(runDir, 'checkpoints', 'last.onnx'))) return 0;
  return (await loadCheckpoint<{ epochsDone: number }>(join(runDir, 'checkpoints', 'last.onnx'))).state.epochsDone;
}

describe('Ctrl-C and SIGTERM during regraft train', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s ends the run at a batch boundary with one line naming the checkpoint and the --resume command, exit %d', async (signal, code) => {
    const out = join(dir, `stopped-${signal}`);
    const run = startCli(trainArgs(small, out));
    await waitFor(() => metricLines(out) >= 1 && existsSync(join(out, 'checkpoints', 'last.onnx')), run.exited, 'the first checkpoint');
    run.child.kill(signal);
    const done = await run.exited;
    expect(done.signal).toBe(null);
    expect(done.code).toBe(code);
    const lines = done.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    const held = await epochsInCheckpoint(out);
    const resume = `regraft train --resume --out ${out}`;
    const holds = `${escape(join(out, 'checkpoints', 'last.onnx'))} holds epoch ${held}; continue with: ${escape(resume)}$`;
    // Mid-epoch (the usual case: an epoch is ~180 batches) or, rarely, between two epochs.
    expect(lines[0]).toMatch(new RegExp(
      `^regraft: stopped by ${signal} (in epoch ${held + 1}/40 after batch \\d+ of 169 \\(that epoch runs again on resume\\)|after epoch ${held}/40); ${holds}`,
    ));
    expect(metricLines(out)).toBeGreaterThanOrEqual(held);
    expect(tempFilesOfRun(out)).toEqual([]);

    // The command it printed continues the run.
    const resumed = startCli(['train', '--resume', '--out', out, '--epochs', String(held + 1)]);
    const finished = await resumed.exited;
    expect(finished.stderr).toBe('');
    expect(finished.code).toBe(0);
    expect(readMetrics(out).map((m) => m.epoch)).toEqual(Array.from({ length: held + 1 }, (_, i) => i + 1));
  });

  it('a second Ctrl-C during a checkpoint write exits at once and leaves no half-written file', async () => {
    // The pair of signals must land inside a checkpoint write; on a fast disk one may miss it, so a few tries.
    for (let attempt = 1; ; attempt++) {
      const out = join(dir, `twice-${attempt}`);
      const run = startCli(trainArgs(large, out, ['--limit', '200']));
      // A temp file in checkpoints/ after the first epoch's: a later epoch's checkpoint is being written.
      await waitFor(() => existsSync(join(out, 'checkpoints', 'last.onnx')) && tempFilesIn(join(out, 'checkpoints')).length > 0, run.exited, 'a checkpoint write', 60_000, 1);
      run.child.kill('SIGINT');
      await new Promise((r) => setTimeout(r, 2));
      run.child.kill('SIGINT');
      const done = await run.exited;
      expect(done.code).toBe(130);
      const lines = done.stderr.split('\n').filter((l) => l !== '');
      expect(lines).toHaveLength(1);
      expect(tempFilesOfRun(out)).toEqual([]);
      // Whatever the timing, the checkpoint on disk is whole: it loads, with a consistent state.
      const held = await epochsInCheckpoint(out);
      expect(held).toBeGreaterThanOrEqual(1);
      if (lines[0].startsWith('regraft: stopped at once') || attempt === 5) {
        expect(lines[0]).toMatch(new RegExp(`^regraft: stopped at once by a second SIGINT; ${escape(join(out, 'checkpoints', 'last.onnx'))} holds epoch ${held}(, the last one: the run is complete)?; continue with: regraft train --resume --out ${escape(out)}$`));
        break;
      }
    }
  });
});

describe('SIGKILL during checkpoint writes', () => {
  it('leaves temp files, which the next start of the run removes; the resumed run finishes', async () => {
    const out = join(dir, 'killed');
    let left = 0;
    for (let kill = 1; kill <= 3; kill++) {
      const args = kill === 1 ? trainArgs(large, out, ['--limit', '200']) : ['train', '--resume', '--out', out];
      const before = new Set(tempFilesOfRun(out));
      const run = startCli(args);
      // A checkpoint temp file this process is writing: kill it right there, as a power cut would.
      const writing = () => existsSync(join(out, 'config.json')) && tempFilesIn(join(out, 'checkpoints')).some((n) => !before.has(join('checkpoints', n)));
      await waitFor(writing, run.exited, 'a checkpoint write', 60_000, 1);
      run.child.kill('SIGKILL');
      expect((await run.exited).signal).toBe('SIGKILL');
      const after = tempFilesOfRun(out);
      // Each kill leaves its own temp file; the earlier kill's were swept when this run started.
      expect(after.length).toBeGreaterThanOrEqual(1);
      expect(after.filter((n) => before.has(n))).toEqual([]);
      left += after.length;
    }
    expect(left).toBeGreaterThanOrEqual(3);
    const resumed = startCli(['train', '--resume', '--out', out, '--epochs', String((await epochsInCheckpoint(out)) + 1)]);
    const done = await resumed.exited;
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    expect(tempFilesOfRun(out)).toEqual([]);
    expect(readdirSync(join(out, 'checkpoints')).sort()).toEqual(['best.onnx', 'last.onnx']);
  });
});

describe('train() with an AbortSignal (the API)', () => {
  it('aborted before the run directory is written: nothing is written, and the error says so (exit code 130 for SIGINT)', async () => {
    const out = join(dir, 'never');
    const controller = new AbortController();
    controller.abort('SIGINT');
    const err = await train({ model: small, data: MNIST_SUBSET, limit: 100, epochs: 1, out }, {}, { signal: controller.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunInterrupted);
    expect((err as RunInterrupted).exitCode).toBe(130);
    expect((err as Error).message).toBe(`stopped by SIGINT before training started; nothing was written to ${out}`);
    expect(existsSync(out)).toBe(false);
  });

  // With several steps per run, the run in flight finishes: a stop asked at batch 5 lands after batch 8.
  it.each([
    [1, 5],
    [4, 8],
  ])('aborted mid-epoch with %i step(s) per run: the run in flight finishes (after batch %i), the epoch is abandoned, the checkpoint of the one before holds', async (stepsPerRun, stoppedAfter) => {
    const out = join(dir, `api-stop-${stepsPerRun}`);
    const controller = new AbortController();
    const err = await train(
      { model: small, data: MNIST_SUBSET, limit: 640, batchSize: 32, valSplit: 0, epochs: 3, stepsPerRun, out },
      { onBatch: (p) => p.epoch === 2 && p.batch === 5 && controller.abort() },
      { signal: controller.signal },
    ).catch((e: unknown) => e);
    expect((err as RunInterrupted).exitCode).toBe(1);
    expect((err as Error).message).toBe(
      `stopped (aborted) in epoch 2/3 after batch ${stoppedAfter} of 20 (that epoch runs again on resume); ${join(out, 'checkpoints', 'last.onnx')} holds epoch 1; continue with: regraft train --resume --out ${out}`,
    );
    expect(readMetrics(out)).toHaveLength(1);
  });
});
