import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ProcessPoolExecutor, loadStudy, tune, type TrialRecord } from '../../src/tune/index.js';

// These tests fork dist/tune/worker.js: `npm test` builds dist first (or run `npx tsc -p tsconfig.build.json`).
const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const trialModule = join(fixtures, 'sleepy-trial.mjs');
const tempDir = () => mkdtempSync(join(tmpdir(), 'regraft-pool-'));

function markers(dir: string, kind: 'start' | 'done'): { trialId: number; pid: number; body: string }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${kind}-`))
    .map((f) => {
      const [, id, pid] = f.split('-');
      return { trialId: Number(id), pid: Number(pid), body: readFileSync(join(dir, f), 'utf8') };
    });
}

/** Complete trials in a study another process is writing (0 while its file does not exist yet). */
function completeCount(studyPath: string): number {
  try {
    return loadStudy(studyPath).counts.complete;
  } catch {
    return 0;
  }
}

/** Whether a process still runs; an exited orphan nobody reaped yet (a zombie) does not count. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false; // no /proc entry: gone (or not Linux, where kill(pid, 0) above is the whole answer)
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
}

describe('ProcessPoolExecutor', () => {
  it('runs trials in parallel worker processes with one compute thread each', async () => {
    const dir = tempDir();
    const markerDir = join(dir, 'markers');
    const summary = await tune({
      config: {
        space: { x: { uniform: [0, 1] }, epochs: 3, sleepMs: 80, markerDir },
        objective: { metric: 'score', mode: 'max' },
        strategy: 'random',
        trials: 4,
        parallel: 2,
      },
      trialModule,
      studyPath: join(dir, 'study.db'),
    });
    expect(summary.trials.map((t) => t.status)).toEqual(['complete', 'complete', 'complete', 'complete']);
    for (const t of summary.trials) expect(t.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);

    const runs = markers(markerDir, 'done').map((m) => JSON.parse(m.body) as { started: number; finished: number });
    expect(runs).toHaveLength(4);
    const overlapping = runs.some((a, i) => runs.some((b, j) => i !== j && a.started < b.finished && b.started < a.finished));
    expect(overlapping).toBe(true);
    const starts = markers(markerDir, 'start');
    expect(new Set(starts.map((m) => m.pid)).size).toBe(4); // a fresh process per trial
    for (const m of starts) expect(JSON.parse(m.body)).toEqual({ threads: 1, omp: '1' });
  });

  it('relays pruning decisions over IPC', async () => {
    const dir = tempDir();
    const summary = await tune({
      config: {
        space: { x: { categorical: [0.9, 0.1, 0.05] }, epochs: 3, sleepMs: 5 },
        objective: { metric: 'score', mode: 'max' },
        strategy: 'grid',
        parallel: 1,
        pruner: { asha: { minEpochs: 1, eta: 3, maxEpochs: 3 } },
      },
      trialModule,
      studyPath: join(dir, 'study.db'),
    });
    expect(summary.trials.map((t) => [t.status, t.epochs.length])).toEqual([['complete', 3], ['pruned', 1], ['pruned', 1]]);
    expect(summary.trials[1].objective).toBeCloseTo(0.1 * (1 - Math.exp(-1)), 12);
  });

  it('records a throwing trial, a crashing worker and a NaN objective as failed, and completes the study', async () => {
    const dir = tempDir();
    const summary = await tune({
      config: {
        space: { behavior: { categorical: ['ok', 'throw', 'crash', 'nan'] }, x: 0.5, epochs: 3, sleepMs: 5 },
        objective: { metric: 'score', mode: 'max' },
        strategy: 'grid',
        parallel: 2,
      },
      trialModule,
      studyPath: join(dir, 'study.db'),
    });
    const byBehavior = Object.fromEntries(summary.trials.map((t) => [t.params.behavior, t]));
    expect(byBehavior.ok.status).toBe('complete');
    expect(byBehavior.throw).toMatchObject({ status: 'failed', error: 'synthetic failure in epoch 2' });
    expect(byBehavior.crash).toMatchObject({ status: 'failed', error: 'worker exited with code 3 before the trial returned' });
    expect(byBehavior.crash.epochs).toHaveLength(1);
    expect(byBehavior.nan).toMatchObject({ status: 'failed', error: "objective metric 'score' is NaN" });
    expect(summary.counts).toMatchObject({ complete: 1, failed: 3 });
  });

  it('fails a trial whose module exports no runTrial, and refuses a missing module up front', async () => {
    const dir = tempDir();
    const badModule = join(dir, 'no-export.mjs');
    writeFileSync(badModule, 'export const train = () => ({});\n');
    const summary = await tune({
      config: { space: { x: 1 }, objective: { metric: 'score' }, trials: 1, parallel: 1 },
      executor: new ProcessPoolExecutor(badModule, { parallel: 1 }),
      studyPath: join(dir, 'study.db'),
    });
    expect(summary.trials[0].error).toBe(`trial module ${badModule} does not export a function runTrial(params, ctx)`);
    expect(() => new ProcessPoolExecutor(join(dir, 'nope.mjs'))).toThrow(/does not exist; pass a JS file that exports runTrial/);
  });

  it('resumes a SIGKILLed study: exactly N trials, none lost or duplicated, finished ones not rerun', async () => {
    const dir = tempDir();
    const studyPath = join(dir, 'study.db');
    const markerDir = join(dir, 'markers');
    const total = 8;
    const runStudy = (resume: boolean) =>
      spawn(process.execPath, [join(fixtures, 'run-study.mjs'), studyPath, markerDir, String(total), ...(resume ? ['--resume'] : [])], { stdio: 'ignore' });
    const exited = (child: ReturnType<typeof spawn>) =>
      new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));

    const first = runStudy(false);
    const firstExit = exited(first);
    await waitUntil(() => completeCount(studyPath) >= 3, 20_000);
    first.kill('SIGKILL');
    expect(await firstExit).toBe('SIGKILL');

    const before = loadStudy(studyPath);
    const completeBefore = before.trials.filter((t) => t.status === 'complete');
    const unfinishedBefore = before.trials.filter((t) => t.status === 'running');
    expect(completeBefore.length).toBeGreaterThanOrEqual(3);
    expect(unfinishedBefore.length).toBeGreaterThan(0);
    expect(before.trials.length).toBeLessThan(total);
    // The killed study's workers noticed their parent was gone and exited: no trial keeps running unowned.
    const workerPids = markers(markerDir, 'start').map((m) => m.pid);
    await waitUntil(() => !workerPids.some(isAlive), 5_000);
    for (const pid of workerPids) expect(isAlive(pid), `worker ${pid}`).toBe(false);

    expect(await exited(runStudy(true))).toBe(0);
    const after = loadStudy(studyPath);
    expect(after.trials.map((t) => t.id)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(after.trials.every((t) => t.status === 'complete')).toBe(true);

    const startsPerTrial = new Map<number, number>();
    for (const m of markers(markerDir, 'start')) startsPerTrial.set(m.trialId, (startsPerTrial.get(m.trialId) ?? 0) + 1);
    expect([...startsPerTrial.keys()].sort((a, b) => a - b)).toEqual(after.trials.map((t) => t.id));
    for (const t of completeBefore) {
      expect(startsPerTrial.get(t.id), `trial ${t.id} finished before the kill`).toBe(1);
      expect(after.trials[t.id - 1]).toEqual(t);
    }
    for (const t of unfinishedBefore) {
      const rerun = after.trials[t.id - 1] as TrialRecord;
      expect(rerun.params).toEqual(t.params);
      expect(rerun.note).toMatch(/left running by a study that was killed; re-queued on resume/);
      expect(rerun.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    }
  });

  it('stops cleanly on SIGTERM: no new trials, workers killed, running trials marked interrupted', async () => {
    const dir = tempDir();
    const studyPath = join(dir, 'study.db');
    const markerDir = join(dir, 'markers');
    const child = spawn(process.execPath, [join(fixtures, 'run-study.mjs'), studyPath, markerDir, '8'], { stdio: 'ignore' });
    const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
    await waitUntil(() => completeCount(studyPath) >= 2, 20_000);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);

    const study = loadStudy(studyPath);
    expect(study.counts.running).toBe(0);
    expect(study.counts.interrupted).toBeGreaterThan(0);
    for (const t of study.trials.filter((t) => t.status === 'interrupted')) expect(t.note).toMatch(/^interrupted \(SIGTERM\)/);
    expect(study.trials.length).toBeLessThan(8);
    const workerPids = markers(markerDir, 'start').map((m) => m.pid);
    await waitUntil(() => !workerPids.some(isAlive), 5_000);
    for (const pid of workerPids) expect(isAlive(pid), `worker ${pid}`).toBe(false);
  });
});
