/**
 * Disks that fill up, turn read-only or refuse a user, on real file systems (a small tmpfs, see test/filesystems.ts)
 * and real processes: each is one line saying what it is, with the last good checkpoint named, exit 1, and no temp
 * file left. Before issue #14: `cannot write the model (short write (446464 of 1221754 bytes)); check that the
 * folder exists and is writable`, a raw `ENOENT: no such file or directory, mkdir ...` for a read-only parent, and a
 * raw `EEXIST` for an --out that is a file.
 */
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMlp } from '../../src/models/builders.js';
import { loadCheckpoint } from '../../src/training/checkpoint.js';
import { tempFilesIn } from '../../src/util/atomic-file.js';
import { smallFileSystem, type SmallFileSystem } from '../filesystems.js';
import { runCli } from '../cli/helpers.js';
import { assertDistIsFresh, metricLines, startCli, waitFor } from './fixtures/child.js';
import { MNIST_SUBSET, readMetrics, tempDir, writeModel } from './fixtures/runs.js';

const dir = tempDir('disk');
let model: string;
let fs: SmallFileSystem | undefined;
let missing: string | undefined;

beforeAll(async () => {
  assertDistIsFresh(['training/trainer', 'training/run-stop', 'util/atomic-file', 'util/fs-errors']);
  // Readable by every user: the permission test runs the CLI as another one.
  chmodSync(dir, 0o755);
  model = await writeModel(buildMlp({ hidden: [32], seed: 5 }), dir, 'mlp.onnx');
  ({ fs, missing } = smallFileSystem('4m'));
});

afterAll(() => fs?.unmount());

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const trainArgs = (out: string, epochs = 30) =>
  ['train', model, '--data', MNIST_SUBSET, '--limit', '3000', '--batch-size', '16', '--epochs', String(epochs), '--optimizer', 'momentum', '--out', out];

function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  return lines[0];
}

describe('a full disk', () => {
  it('mid-run: "no space left on device while writing X", the last good checkpoint named; the run resumes once there is room', async (ctx) => {
    if (!fs) return ctx.skip(missing);
    const out = join(fs.dir, 'run');
    const run = startCli(trainArgs(out));
    await waitFor(() => metricLines(out) >= 2 && existsSync(join(out, 'checkpoints', 'last.onnx')), run.exited, 'two epochs');
    const filler = fs.fill();
    const done = await run.exited;
    expect(done.code).toBe(1);
    const line = oneLine(done.stderr);
    const { state } = await loadCheckpoint<{ epochsDone: number }>(join(out, 'checkpoints', 'last.onnx'));
    expect(line).toMatch(new RegExp(
      `^regraft: no space left on device while writing ${escape(out)}/(metrics\\.jsonl|checkpoints/(best|last)\\.onnx|loss\\.svg|steps\\.jsonl|tb/events\\.out\\.tfevents\\.[^/]+); free some space or write elsewhere; ` +
        `the last good checkpoint is ${escape(join(out, 'checkpoints', 'last.onnx'))} \\(epoch ${state.epochsDone}\\); then continue with: regraft train --resume --out ${escape(out)}$`,
    ));
    expect([...tempFilesIn(out), ...tempFilesIn(join(out, 'checkpoints'))]).toEqual([]);

    rmSync(filler);
    const resumed = startCli(['train', '--resume', '--out', out, '--epochs', String(state.epochsDone + 1)]);
    const finished = await resumed.exited;
    expect(finished.stderr).toBe('');
    expect(finished.code).toBe(0);
    expect(readMetrics(out).map((m) => m.epoch)).toEqual(Array.from({ length: state.epochsDone + 1 }, (_, i) => i + 1));
    rmSync(out, { recursive: true });
  });

  it('while saving a model (convert, a new run): the message names the file, nothing is left half-written, a new run leaves no folder', async (ctx) => {
    if (!fs) return ctx.skip(missing);
    // A 2.5 MB model does not fit in the space a filler leaves free.
    const big = await writeModel(buildMlp({ hidden: [800], seed: 1 }), dir, 'big.onnx');
    const filler = join(fs.dir, 'filler.bin');
    writeFileSync(filler, Buffer.alloc(3 << 20));
    const target = join(fs.dir, 'copy.onnx');
    const convert = startCli(['convert', big, '-o', target]);
    const converted = await convert.exited;
    expect(converted.code).toBe(1);
    expect(oneLine(converted.stderr)).toBe(`regraft: no space left on device while writing ${target}; free some space or write elsewhere`);
    expect(tempFilesIn(fs.dir)).toEqual([]);
    expect(existsSync(target)).toBe(false);

    const out = join(fs.dir, 'big-run');
    const train = startCli(['train', big, '--data', MNIST_SUBSET, '--limit', '100', '--epochs', '1', '--out', out]);
    const trained = await train.exited;
    expect(trained.code).toBe(1);
    expect(oneLine(trained.stderr)).toBe(`regraft: no space left on device while writing ${join(out, 'model.onnx')}; free some space or write elsewhere`);
    expect(existsSync(out)).toBe(false);
    rmSync(filler);
  });
});

describe('folders that cannot be written', () => {
  it('a read-only file system: "cannot create X: read-only file system", before any data is read; mid-run, with the checkpoint', async (ctx) => {
    if (!fs) return ctx.skip(missing);
    const out = join(fs.dir, 'ro-run');
    const run = startCli(trainArgs(out));
    await waitFor(() => metricLines(out) >= 1 && existsSync(join(out, 'checkpoints', 'last.onnx')), run.exited, 'the first epoch');
    fs.remountReadOnly();
    try {
      const done = await run.exited;
      expect(done.code).toBe(1);
      const { state } = await loadCheckpoint<{ epochsDone: number }>(join(out, 'checkpoints', 'last.onnx'));
      expect(oneLine(done.stderr)).toMatch(new RegExp(
        `^regraft: (cannot create|cannot write) ${escape(out)}/\\S+: read-only file system; write elsewhere; the last good checkpoint is ${escape(join(out, 'checkpoints', 'last.onnx'))} \\(epoch ${state.epochsDone}\\)`,
      ));
      // A new run under the read-only folder (its parent does not exist either: Node's mkdir -p says ENOENT there).
      const nested = join(fs.dir, 'a', 'b', 'run');
      const fresh = await runCli(...trainArgs(nested));
      expect(fresh.err).toEqual([`regraft: cannot create ${nested}: read-only file system; write elsewhere`]);
      expect(fresh.code).toBe(1);
    } finally {
      fs.remountWritable();
    }
  });

  it('a folder this process may not write: "cannot create X: permission denied"', async () => {
    const locked = join(dir, 'locked');
    mkdirSync(locked, { mode: 0o755 });
    const out = join(locked, 'run');
    chmodSync(locked, 0o555);
    // Root ignores permission bits through its capabilities: setpriv drops them (from the bounding set, so the CLI
    // never has them), and the folder's mode then applies to it as to any user. Another uid (nobody) would be
    // simpler but cannot read a clone under a private folder (mktemp -d makes them 0700).
    const asRoot = userInfo().uid === 0;
    const run = startCli(trainArgs(out), {}, asRoot ? ['setpriv', '--bounding-set', '-dac_override,-dac_read_search,-fowner'] : []);
    const done = await run.exited;
    expect(oneLine(done.stderr)).toBe(`regraft: cannot create ${out}: permission denied; write somewhere you may, or fix the folder's permissions`);
    expect(done.code).toBe(1);
    expect(existsSync(out)).toBe(false);
  });

  it('an --out that is a file: "X is a file, not a run directory"', async () => {
    const file = join(dir, 'not-a-folder');
    writeFileSync(file, 'x');
    const r = await runCli(...trainArgs(file));
    expect(r.err).toEqual([`regraft: ${file} is a file, not a run directory; choose another path`]);
    expect(r.code).toBe(1);
    const under = await runCli(...trainArgs(join(file, 'run')));
    expect(under.err).toEqual([`regraft: ${file} is a file, not a folder; choose another path`]);
  });
});
