import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { loadModel } from '../../src/model-io.js';
import type { StudyReportJson } from '../../src/tune/report.js';
import { loadStudy, type StudySummary } from '../../src/tune/snapshot.js';
import { runCli } from '../cli/helpers.js';

// `regraft tune` with the real trainer on small MNIST subsets. Trials run in worker processes that execute the
// compiled dist/tune/train-trial.js: `npm test` builds dist first (or run `npx tsc -p tsconfig.build.json`).
const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..');
const studyFixture = join(here, 'fixtures', 'mnist-mlp-study.yaml');
const tempDir = () => mkdtempSync(join(tmpdir(), 'regraft-tune-it-'));

/** The fixture study with some top-level keys (or `space`/`train` entries) replaced, written to a new YAML file. */
function writeStudyConfig(dir: string, changes: { space?: Record<string, unknown>; train?: Record<string, unknown>; [key: string]: unknown } = {}): string {
  const base = parseYaml(readFileSync(studyFixture, 'utf8')) as Record<string, Record<string, unknown>>;
  const { space, train, ...top } = changes;
  const config = { ...base, ...top, space: space ?? base.space, train: { ...base.train, ...train } };
  const path = join(dir, 'study.yaml');
  writeFileSync(path, toYaml(config));
  return path;
}

/** Reads a study another process may be writing; null while its file does not hold a study yet. */
function tryLoadStudy(studyPath: string): StudySummary | null {
  try {
    return loadStudy(studyPath);
  } catch {
    return null;
  }
}

/** Process ids of every descendant of `pid` (Linux /proc), so a test can wait for orphaned workers to go. */
function descendants(pid: number): number[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return children.flatMap((c) => [c, ...descendants(c)]);
}

function isAlive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('regraft tune with the real trainer', () => {
  it('runs a random study in two workers, ranks it, reports it as JSON and HTML, and exports a model eval can score', async () => {
    const dir = tempDir();
    const config = writeStudyConfig(dir);
    const study = join(dir, 'study.db');
    const html = join(dir, 'run-report.html');

    const run = await runCli('tune', 'run', config, '--study', study, '--parallel', '2', '--html', html);
    expect(run.err).toEqual([]);
    expect(run.code).toBe(0);
    const summary = loadStudy(study);
    expect(summary.trials.map((t) => t.status)).toEqual(['complete', 'complete', 'complete', 'complete']);
    expect(summary.config.parallel).toBe(2);
    for (const t of summary.trials) {
      expect(t.attempts).toBe(1);
      expect(t.epochs).toHaveLength(1);
      expect(t.objective).toBeGreaterThan(0.1); // better than guessing among 10 classes
      expect(existsSync(join(t.runDir, 'checkpoints', 'best.onnx'))).toBe(true);
    }

    // The printed table: header, rule, then one row per trial, best first.
    const header = run.out.findIndex((l) => /^rank\s+trial\s+status\s+val_accuracy/.test(l));
    expect(header).toBeGreaterThanOrEqual(0);
    const rows = run.out.slice(header + 2, header + 6).map((l) => l.split(/\s+/));
    expect(rows.map((r) => r[0])).toEqual(['1', '2', '3', '4']);
    const byObjective = [...summary.trials].sort((a, b) => (b.objective as number) - (a.objective as number));
    expect(rows.map((r) => Number(r[1]))).toEqual(byObjective.map((t) => t.id));
    expect(run.out).toContain(`report: ${html}`);
    expect(readFileSync(html, 'utf8')).toMatch(/<svg[\s\S]*<table/);

    const json = await runCli('tune', 'report', study, '--json');
    expect(json.code).toBe(0);
    const report = JSON.parse(json.out.join('\n')) as StudyReportJson;
    expect(report.counts).toEqual({ complete: 4 });
    expect(report.trials.map((t) => t.trialId)).toEqual(byObjective.map((t) => t.id));
    expect(report.best).toEqual({ trialId: byObjective[0].id, objective: byObjective[0].objective, params: byObjective[0].params });
    expect(report.trials[0].curve).toHaveLength(1);

    const page = join(dir, 'report.html');
    const htmlRun = await runCli('tune', 'report', study, '--html', page);
    expect(htmlRun.code).toBe(0);
    expect(readFileSync(page, 'utf8')).toContain(`Best: trial ${byObjective[0].id}`);

    const best = join(dir, 'best.onnx');
    const exported = await runCli('tune', 'export', study, '-o', best);
    expect(exported.err).toEqual([]);
    expect(exported.code).toBe(0);
    expect(exported.out[0]).toMatch(new RegExp(`^wrote .*best\\.onnx from trial ${byObjective[0].id} `));
    // Every trial trained with Dropout (dropoutRatio is in the space); the inference model has none.
    const trained = await loadModel(join(byObjective[0].runDir, 'model.onnx'));
    expect(trained.graph.nodes.some((n) => n.opType === 'Dropout')).toBe(true);
    const inference = await loadModel(best);
    expect(inference.graph.nodes.map((n) => n.opType)).not.toContain('Dropout');

    const evaluated = await runCli('eval', best, '--data', 'mnist:test', '--json');
    expect(evaluated.code).toBe(0);
    const { accuracy, samples } = JSON.parse(evaluated.out[0]) as { accuracy: number; samples: number };
    expect(samples).toBe(10_000);
    // Trained on 1200 images for one epoch: far from converged, but clearly learned, and close to its validation score.
    expect(accuracy).toBeGreaterThan(0.5);
    expect(Math.abs(accuracy - (byObjective[0].objective as number))).toBeLessThan(0.15);
  });

  it('records trials the trainer rejects or whose loss diverges as failed, with their error, and goes on', async () => {
    const dir = tempDir();
    const config = writeStudyConfig(dir, {
      strategy: 'grid',
      trials: undefined,
      space: { optimizer: { categorical: ['momentum', 'rmsprop'] }, lr: { categorical: [0.1, 1e10] } },
    });
    const study = join(dir, 'study.db');
    const run = await runCli('tune', 'run', config, '--study', study, '--parallel', '2');
    expect(run.err).toEqual([]);
    expect(run.code).toBe(0);

    const trials = loadStudy(study).trials;
    const outcome = (optimizer: string, lr: number) => trials.find((t) => t.params.optimizer === optimizer && t.params.lr === lr);
    expect(trials).toHaveLength(4);
    expect(outcome('momentum', 0.1)).toMatchObject({ status: 'complete', error: null });
    expect(outcome('momentum', 1e10)).toMatchObject({ status: 'failed', objective: null });
    expect(outcome('momentum', 1e10)?.error).toMatch(/loss became NaN at epoch 1.*lower the learning rate/);
    for (const lr of [0.1, 1e10]) {
      expect(outcome('rmsprop', lr)).toMatchObject({ status: 'failed', objective: null });
      expect(outcome('rmsprop', lr)?.error).toMatch(/optimizer must be one of .*got 'rmsprop'/);
    }
    // The complete trial ranks first; the failed ones follow, their errors in the table's detail column.
    const header = run.out.findIndex((l) => l.startsWith('rank'));
    expect(run.out[header + 2]).toMatch(/^1\s+\d+\s+complete/);
    expect(run.out.slice(header + 3).every((l) => /\bfailed\b.*train: /.test(l))).toBe(true);
  });

  it('a regression study (sine, mse) ranks trials by val_loss; asking it for val_accuracy is refused before anything runs', async () => {
    const dir = tempDir();
    const train = {
      model: join(repoRoot, 'models', 'sine-mlp.onnx'),
      data: `npy:${join(repoRoot, 'examples', 'sine-train-x.npy')},${join(repoRoot, 'examples', 'sine-train-y.npy')}`,
      loss: 'mse',
      epochs: 2,
      optimizer: 'adam',
      limit: 400,
    };
    const base = { space: { lr: { categorical: [0.0001, 0.02] } }, strategy: 'grid', trials: undefined, pruner: 'none', train };
    const wrong = writeStudyConfig(dir, { ...base, objective: { metric: 'val_accuracy', mode: 'max' } });
    const refused = await runCli('tune', 'run', wrong, '--study', join(dir, 'wrong.db'));
    expect(refused.code).toBe(1);
    expect(refused.err).toEqual([`regraft: ${wrong}: train.loss mse reports no val_accuracy; use objective { metric: val_loss, mode: min }`]);
    expect(existsSync(join(dir, 'wrong.db'))).toBe(false);

    const config = writeStudyConfig(dir, { ...base, objective: { metric: 'val_loss', mode: 'min' } });
    const run = await runCli('tune', 'run', config, '--study', join(dir, 'sine.db'), '--parallel', '1');
    expect(run.err).toEqual([]);
    const trials = loadStudy(join(dir, 'sine.db')).trials;
    expect(trials.map((t) => t.status)).toEqual(['complete', 'complete']);
    // lr 0.02 fits sin(x) far better than 1e-4 in two epochs.
    const byLr = (lr: number) => trials.find((t) => t.params.lr === lr)!.objective as number;
    expect(byLr(0.02)).toBeLessThan(byLr(0.0001));
  });

  it.each([
    ['low > high', { lr: { uniform: [0.5, 0.1] } }, /'lr': low 0.5 is greater than high 0.1/],
    ['a log range with a non-positive bound', { lr: { loguniform: [0, 0.3] } }, /'lr': a log scale needs positive bounds/],
    ['an unknown parameter', { learningRate: { loguniform: [0.01, 0.3] } }, /'learningRate': unknown parameter; did you mean 'lr'\? \(the trainer accepts .*\blr, /],
  ])('refuses a space with %s in one line, exit 1, before anything runs', async (_, space, message) => {
    const dir = tempDir();
    const config = writeStudyConfig(dir, { space });
    const study = join(dir, 'study.db');
    const run = await runCli('tune', 'run', config, '--study', study);
    expect(run.code).toBe(1);
    expect(run.out).toEqual([]);
    expect(run.err).toHaveLength(1);
    expect(run.err[0]).toMatch(/^regraft: .*study\.yaml: search space parameter /);
    expect(run.err[0]).toMatch(message);
    expect(existsSync(study)).toBe(false);
    expect(existsSync(`${study}.train.json`)).toBe(false);
    expect(existsSync(join(dir, 'study-runs'))).toBe(false);
  });

  it('resumes a study killed with SIGKILL: same trials, none lost or duplicated, finished ones not rerun', async () => {
    const dir = tempDir();
    const config = join(dir, 'study.yaml');
    copyFileSync(studyFixture, config);
    const study = join(dir, 'study.db');
    // Left over by an earlier study at this path (its study file deleted): the new study's settings replace it.
    writeFileSync(`${study}.train.json`, JSON.stringify({ model: 'an-old-model.onnx', data: 'mnist' }));

    const child = spawn(process.execPath, ['bin/regraft.js', 'tune', 'run', config, '--study', study, '--parallel', '2', '--trials', '3'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let childOutput = '';
    child.stdout.on('data', (d: Buffer) => (childOutput += d.toString()));
    child.stderr.on('data', (d: Buffer) => (childOutput += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitUntil(() => (tryLoadStudy(study)?.counts.complete ?? 0) >= 1 || child.exitCode !== null, 40_000, 'the first trial to finish');
      const workers = descendants(child.pid as number);
      child.kill('SIGKILL');
      await exited;
      // Orphaned workers notice the closed IPC channel and exit; a rerun must not race one still writing its folder.
      await waitUntil(() => workers.every((pid) => !isAlive(pid)), 10_000, 'orphaned trial workers to exit');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    const atKill = loadStudy(study);
    expect(atKill.counts.complete, `the study ended before it could be killed:\n${childOutput}`).toBeLessThan(3);
    const finishedBefore = atKill.trials.filter((t) => t.status === 'complete');
    const runningBefore = atKill.trials.filter((t) => t.status === 'running');
    expect(finishedBefore.length).toBeGreaterThanOrEqual(1);
    // The driver claims the next trial as soon as one finishes, so the kill always interrupts at least one.
    expect(runningBefore.length).toBeGreaterThanOrEqual(1);

    const resumed = await runCli('tune', 'run', config, '--study', study, '--parallel', '2', '--trials', '3', '--resume');
    expect(resumed.err).toEqual([]);
    expect(resumed.code).toBe(0);
    const final = loadStudy(study);
    expect(final.trials.map((t) => t.id)).toEqual([1, 2, 3]);
    expect(final.trials.map((t) => t.status)).toEqual(['complete', 'complete', 'complete']);
    expect(new Set(final.trials.map((t) => t.runDir)).size).toBe(3);
    for (const before of finishedBefore) {
      const after = final.trials.find((t) => t.id === before.id);
      expect(after).toMatchObject({ attempts: 1, params: before.params, objective: before.objective, finished: before.finished });
    }
    for (const before of runningBefore) {
      const after = final.trials.find((t) => t.id === before.id);
      expect(after).toMatchObject({ attempts: 2, params: before.params });
    }
    // A rerun starts over in an emptied folder: each run holds the metrics of exactly one one-epoch attempt.
    for (const t of final.trials) expect(readFileSync(join(t.runDir, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
    // Only the trials that had not finished ran again after the resume.
    const rerun = resumed.out.filter((l) => /^trial \d+ complete/.test(l)).map((l) => Number(l.split(' ')[1]));
    expect(rerun.sort()).toEqual(final.trials.filter((t) => !finishedBefore.some((f) => f.id === t.id)).map((t) => t.id));

    // A resume must train like the start did: other `train:` settings are refused before anything runs.
    const changed = writeStudyConfig(dir, { train: { limit: 1000 } });
    const refused = await runCli('tune', 'run', changed, '--study', study, '--resume', '--trials', '4');
    expect(refused.code).toBe(1);
    expect(refused.err).toEqual([expect.stringMatching(/'train:' differs from the one study 'mnist-mlp-small' in study file .*study\.db started with/)]);
    expect(loadStudy(study).trials).toHaveLength(3);
  });
});
