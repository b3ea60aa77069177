import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStudyFrom } from '../../src/tune/snapshot.js';
import type { ThrowawayPostgres } from '../postgres.js';
import { markers, postgresForTests, spawnWorker, tally, waitUntil } from './distributed-helpers.js';

// Workers are separate processes (fixtures/run-worker.mjs over the built dist/) sharing one study in PostgreSQL or
// in one SQLite file; trials are fixtures/quick-trial.mjs, a few tens of milliseconds each.
const tempDir = () => mkdtempSync(join(tmpdir(), 'regraft-distributed-'));

let pg: ThrowawayPostgres | undefined;
let missing: string | undefined;

beforeAll(async () => {
  ({ pg, missing } = await postgresForTests());
}, 90_000);

afterAll(async () => {
  await pg?.destroy();
});

function quickConfig(markerDir: string, over: Record<string, unknown> = {}) {
  const { space, ...rest } = over as { space?: Record<string, unknown> };
  return {
    space: { x: { uniform: [0, 1], grid: 6 }, width: { categorical: [1, 2] }, epochs: 2, sleepMs: 40, markerDir, ...space },
    objective: { metric: 'score', mode: 'max' },
    strategy: 'random',
    trials: 8,
    parallel: 1,
    seed: 3,
    ...rest,
  };
}

/** Every trial that completed did so once, with parameters no other complete trial has; returns the complete ones. */
function expectEachRunOnce(markerDir: string, completeIds: number[]): void {
  const done = markers(markerDir, 'done');
  const doneByTrial = tally(done, (m) => String(m.trialId));
  for (const id of completeIds) expect(doneByTrial.get(String(id)), `trial ${id} finished`).toBe(1);
  expect(done).toHaveLength(completeIds.length);
  const byParams = tally(done, (m) => JSON.stringify([m.params.x, m.params.width]));
  expect([...byParams.values()].every((n) => n === 1)).toBe(true);
}

describe('a study shared by worker processes', () => {
  it('3 workers on one PostgreSQL study run each grid point exactly once', async (ctx) => {
    if (!pg) return ctx.skip(missing);
    const markerDir = join(tempDir(), 'markers');
    // 6 x-points times 2 widths: 12 grid points, 3 workers started at once (they race to create the study, too).
    const spec = { storage: pg.url, studyName: 'grid-3', config: quickConfig(markerDir, { strategy: 'grid', trials: undefined }), runsDir: join(markerDir, '..', 'runs') };
    const workers = [spawnWorker(spec), spawnWorker(spec), spawnWorker(spec)];
    const ends = await Promise.all(workers.map((w) => w.exited));
    for (const end of ends) expect(end.code, end.out).toBe(0);

    const study = await loadStudyFrom({ storage: pg.url, studyName: 'grid-3' });
    expect(study.trials.map((t) => t.id)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(study.counts.complete).toBe(12);
    expectEachRunOnce(markerDir, study.trials.map((t) => t.id));
    expect(new Set(study.trials.map((t) => JSON.stringify([t.params.x, t.params.width]))).size).toBe(12);
    // The work was shared: more than one worker process ran trials.
    expect(new Set(markers(markerDir, 'done').map((m) => m.parent)).size).toBeGreaterThan(1);
  });

  it('2 workers on one SQLite file (one joining, one resuming) run every trial once, with no "database is locked"', async () => {
    const dir = tempDir();
    const markerDir = join(dir, 'markers');
    const storage = `sqlite:///${join(dir, 'study.db')}`;
    const config = quickConfig(markerDir, { strategy: 'tpe', trials: 10, parallel: 2, space: { sleepMs: 20 } });
    const first = spawnWorker({ storage, studyName: 'sqlite-2', config });
    await waitUntil(() => markers(markerDir, 'start').length > 0, 20_000, 'the first trial');
    const second = spawnWorker({ storage, studyName: 'sqlite-2', config, resume: true });
    const ends = await Promise.all([first.exited, second.exited]);
    for (const end of ends) {
      expect(end.code, end.out).toBe(0);
      expect(end.out).not.toMatch(/locked|already holds a run/);
    }
    const study = await loadStudyFrom({ storage, studyName: 'sqlite-2' });
    expect(study.trials.map((t) => t.id)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(study.counts.complete).toBe(10);
    expect(study.trials.every((t) => t.attempts === 1)).toBe(true);
    expectEachRunOnce(markerDir, study.trials.map((t) => t.id));
    expect(new Set(markers(markerDir, 'start').map((m) => m.parent)).size).toBe(2);
  });

  it('kill -9 of a worker mid-trial: its trial fails by heartbeat, is retried once with the same parameters, none lost or doubled', async (ctx) => {
    if (!pg) return ctx.skip(missing);
    const markerDir = join(tempDir(), 'markers');
    const config = quickConfig(markerDir, { trials: 6, space: { epochs: 4, sleepMs: 120 } });
    const spec = { storage: pg.url, studyName: 'kill-9', config, heartbeat: 0.2, grace: 1.5 };
    const victim = spawnWorker(spec);
    await waitUntil(() => markers(markerDir, 'start').some((m) => m.parent === victim.child.pid), 20_000, 'a trial of the victim');
    const survivor = spawnWorker(spec);
    // Killed only once the survivor works: a worker that starts after the kill re-queues the dead worker's trial at
    // once (same host, process gone), which is the resume path, not the heartbeat one this test is about.
    const unfinishedOfVictim = () => {
      const finished = new Set(markers(markerDir, 'done').map((m) => m.trialId));
      return markers(markerDir, 'start').filter((m) => m.parent === victim.child.pid && !finished.has(m.trialId));
    };
    await waitUntil(() => markers(markerDir, 'start').some((m) => m.parent === survivor.child.pid) && unfinishedOfVictim().length === 1, 20_000, 'a trial of each worker');
    const killed = unfinishedOfVictim();
    victim.child.kill('SIGKILL');
    expect((await victim.exited).signal).toBe('SIGKILL');
    expect(markers(markerDir, 'done').some((m) => m.trialId === killed[0].trialId)).toBe(false);
    const killedTrial = killed[0];
    const end = await survivor.exited;
    expect(end.code, end.out).toBe(0);
    expect(end.out).toMatch(new RegExp(`notice: trial ${killedTrial.trialId} failed: its worker sent no heartbeat for 1.5 s; retried as trial (\\d+) with the same parameters`));

    const study = await loadStudyFrom({ storage: pg.url, studyName: 'kill-9' });
    const failed = study.trials.filter((t) => t.status === 'failed');
    expect(failed.map((t) => t.id)).toEqual([killedTrial.trialId]);
    expect(failed[0].error).toMatch(/^no heartbeat from worker .* \(grace period 1.5 s\)/);
    const retry = study.trials.find((t) => t.note?.startsWith(`retry of trial ${killedTrial.trialId}`));
    expect(retry).toMatchObject({ status: 'complete', params: failed[0].params });
    // The budget counts the retry as the trial it replaces: 6 trials complete, 7 rows.
    expect(study.counts.complete).toBe(6);
    expect(study.trials).toHaveLength(7);
    expectEachRunOnce(markerDir, study.trials.filter((t) => t.status === 'complete').map((t) => t.id));
  });

  it('PostgreSQL stopped and started mid-study: workers say so in one line each way and carry on', async (ctx) => {
    if (!pg) return ctx.skip(missing);
    const markerDir = join(tempDir(), 'markers');
    const config = quickConfig(markerDir, { trials: 10, space: { epochs: 3, sleepMs: 80 } });
    const spec = { storage: pg.url, studyName: 'outage', config, heartbeat: 0.3, grace: 5 };
    const workers = [spawnWorker(spec), spawnWorker(spec)];
    await waitUntil(() => markers(markerDir, 'done').length >= 2, 30_000, 'two trials to finish');
    await pg.stop();
    await new Promise((r) => setTimeout(r, 1500));
    await pg.start();
    const ends = await Promise.all(workers.map((w) => w.exited));
    for (const end of ends) {
      expect(end.code, end.out).toBe(0);
      expect(end.out.match(/notice: lost the study database \(.*\); retrying every 1 s for up to 600 s/g)).toHaveLength(1);
      expect(end.out.match(/notice: the study database is back after [\d.]+ s; carrying on/g)).toHaveLength(1);
    }
    const study = await loadStudyFrom({ storage: pg.url, studyName: 'outage' });
    expect(study.counts.complete).toBe(10);
    expect(study.trials).toHaveLength(10);
    expectEachRunOnce(markerDir, study.trials.map((t) => t.id));
  });

  it('Ctrl-C to the process group puts running trials back (never failed), and a resume finishes them', async () => {
    const dir = tempDir();
    const markerDir = join(dir, 'markers');
    const storage = `sqlite:///${join(dir, 'study.db')}`;
    const config = quickConfig(markerDir, { trials: 12, parallel: 2, space: { epochs: 3, sleepMs: 60 } });
    // Two rounds: the failure this guards against (a trial process dying of SIGINT before its parent) was a race.
    for (let round = 0; round < 2; round++) {
      const run = spawnWorker({ storage, studyName: 'ctrl-c', config, resume: round > 0 }, { detached: true });
      const startedBefore = markers(markerDir, 'start').length;
      await waitUntil(() => markers(markerDir, 'start').length >= startedBefore + 2, 20_000, 'two running trials');
      process.kill(-(run.child.pid as number), 'SIGINT');
      const end = await run.exited;
      expect(end.code, end.out).toBe(0);
      expect(end.out).toContain('"interrupted":"SIGINT"');
      const study = await loadStudyFrom({ storage, studyName: 'ctrl-c' });
      expect(study.counts.failed).toBe(0);
      expect(study.counts.running).toBe(0);
      expect(study.counts.interrupted).toBeGreaterThan(0);
      for (const t of study.trials.filter((t) => t.status === 'interrupted')) expect(t.note).toMatch(/^interrupted \(SIGINT\)/);
    }
    const resumed = await spawnWorker({ storage, studyName: 'ctrl-c', config, resume: true }).exited;
    expect(resumed.code, resumed.out).toBe(0);
    const study = await loadStudyFrom({ storage, studyName: 'ctrl-c' });
    expect(study.counts.complete).toBe(12);
    expect(study.trials).toHaveLength(12);
    expect(study.trials.some((t) => t.attempts > 1 && /re-queued on resume/.test(t.note ?? ''))).toBe(true);
  });
});
