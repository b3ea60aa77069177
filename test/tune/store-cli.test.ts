import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { loadStudy, tune, type Params, type TrialContext } from '../../src/tune/index.js';
import { SqliteDriver } from '../../src/tune/store/sqlite-driver.js';
import { ensureOptunaSchema } from '../../src/tune/store/open-store.js';
import type { ThrowawayPostgres } from '../postgres.js';
import { runCli } from '../cli/helpers.js';
import { postgresForTests } from './distributed-helpers.js';

// Bad input to the study store, through the CLI: one line saying what, where and what to do, exit 1, no trace.
const tempDir = () => mkdtempSync(join(tmpdir(), 'regraft-store-cli-'));
let pg: ThrowawayPostgres | undefined;
let missing: string | undefined;

beforeAll(async () => {
  ({ pg, missing } = await postgresForTests());
}, 90_000);

afterAll(async () => {
  await pg?.destroy();
});

const lrStudy = (space: Record<string, unknown> = { lr: { loguniform: [0.01, 0.3] } }) => ({
  space, objective: { metric: 'score', mode: 'max' }, strategy: 'random', trials: 2, seed: 1,
});
const lrTrial = async (params: Params, ctx: TrialContext) => {
  await ctx.report(1, { score: params.lr as number });
  return { score: params.lr as number };
};

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function expectOneLine(run: { code: number; out: string[]; err: string[] }, message: RegExp): void {
  expect(run.code).toBe(1);
  expect(run.err).toHaveLength(1);
  expect(run.err[0]).toMatch(/^regraft: /);
  expect(run.err[0]).toMatch(message);
  expect(run.err[0]).not.toMatch(/\n|    at /);
}

describe('study storage errors', () => {
  it('an unreachable PostgreSQL', async () => {
    const port = await closedPort();
    const run = await runCli('tune', 'report', '--storage', `postgresql://regraft:x@127.0.0.1:${port}/optuna`, '--study-name', 'a');
    expectOneLine(run, new RegExp(`cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port}/optuna: connection refused; check that the server runs`));
  });

  it('a wrong password, an unknown study, a config that disagrees with the study', async (ctx) => {
    if (!pg) return ctx.skip(missing);
    expectOneLine(await runCli('tune', 'worker', '--storage', pg.urlWith({ password: 'wrong' }), '--study-name', 'a'),
      /PostgreSQL at 127\.0\.0\.1:\d+\/postgres refused the password for user 'regraft'; check the password in --storage/);
    await tune({ config: lrStudy(), storage: pg.url, studyName: 'known', join: true, trialFunction: lrTrial });
    expectOneLine(await runCli('tune', 'worker', '--storage', pg.url, '--study-name', 'nope'), /no study named 'nope' in .* \(it holds 'known'\); check --study-name/);
    expectOneLine(await runCli('tune', 'report', '--storage', pg.url, '--study-name', 'nope'), /no study named 'nope'/);

    const dir = tempDir();
    const config = join(dir, 'other.yaml');
    writeFileSync(config, toYaml({ ...lrStudy({ lr: { loguniform: [0.001, 0.3] } }), train: { model: 'mlp', data: 'mnist', epochs: 1 } }));
    expectOneLine(await runCli('tune', config, '--storage', pg.url, '--study-name', 'known'),
      /cannot resume study 'known' in .*: its 'space' differs from the given config; resume without a config, restore the original 'space'/);
  });

  it('a store at another Optuna schema revision is refused, naming both', async () => {
    const path = join(tempDir(), 'old-optuna.db');
    const driver = SqliteDriver.open(path);
    await ensureOptunaSchema(driver);
    driver.db.exec(`UPDATE alembic_version SET version_num = 'v3.0.0.d'`);
    await driver.close();
    expectOneLine(await runCli('tune', 'report', path), /is at Optuna schema revision 'v3\.0\.0\.d', regraft reads and writes revision 'v3\.2\.0\.a'/);
    await expect(tune({ config: lrStudy(), studyPath: path, trialFunction: lrTrial })).rejects.toThrow(/revision 'v3\.0\.0\.d'.*'v3\.2\.0\.a'/);
  });
});

describe("studies in regraft's first format", () => {
  /** A file as the first format wrote it: one complete trial and one interrupted by Ctrl-C. */
  function firstFormatStudy(path: string): void {
    const db = new Database(path);
    db.exec(`
      CREATE TABLE study (id INTEGER PRIMARY KEY CHECK (id = 1), name TEXT NOT NULL, config TEXT NOT NULL, created TEXT NOT NULL);
      CREATE TABLE trials (id INTEGER PRIMARY KEY, params TEXT NOT NULL, status TEXT NOT NULL, objective REAL, metrics TEXT NOT NULL DEFAULT '{}',
        error TEXT, note TEXT, run_dir TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, started TEXT, finished TEXT);
      CREATE TABLE trial_epochs (trial_id INTEGER NOT NULL REFERENCES trials(id), epoch INTEGER NOT NULL, metrics TEXT NOT NULL, PRIMARY KEY (trial_id, epoch));
      PRAGMA user_version = 1;`);
    db.prepare(`INSERT INTO study VALUES (1, 'old', ?, '2026-11-01T10:00:00.000Z')`).run(JSON.stringify({ ...lrStudy(), name: 'old' }));
    db.prepare(`INSERT INTO trials VALUES (1, '{"lr":0.2}', 'complete', 0.2, '{"score":0.2}', NULL, NULL, '/tmp/old-runs/trial-0001', 1, '2026-11-01T10:00:01.000Z', '2026-11-01T10:00:02.000Z')`).run();
    db.prepare(`INSERT INTO trial_epochs VALUES (1, 1, '{"score":0.2}')`).run();
    db.prepare(`INSERT INTO trials VALUES (2, '{"lr":0.05}', 'interrupted', NULL, '{}', NULL, 'interrupted (SIGINT) at 2026-11-01T10:00:03.000Z', '/tmp/old-runs/trial-0002', 1, '2026-11-01T10:00:02.500Z', '2026-11-01T10:00:03.000Z')`).run();
    db.close();
  }

  it('are reported as they are, refused for work with the migrate command, migrated in one command, then resumed', async () => {
    const path = join(tempDir(), 'old.db');
    firstFormatStudy(path);
    const report = await runCli('tune', 'report', path, '--json');
    expect(report.code).toBe(0);
    expect(JSON.parse(report.out.join('\n'))).toMatchObject({ name: 'old', counts: { complete: 1, interrupted: 1 }, best: { trialId: 1, objective: 0.2 } });
    await expect(tune({ studyPath: path, resume: true, trialFunction: lrTrial })).rejects.toThrow(
      `${path} holds a study in regraft's first format; convert it once with 'regraft tune migrate ${path}' (the old file is kept as ${path}.v1)`);

    const migrated = await runCli('tune', 'migrate', path);
    expect(migrated.err).toEqual([]);
    expect(migrated.out).toEqual([`migrated study 'old' (2 trials) in ${path} to Optuna's schema; the old file is ${path}.v1`]);
    expect(existsSync(`${path}.v1`)).toBe(true);
    const after = loadStudy(path);
    expect(after.trials.map((t) => [t.id, t.status, t.params, t.objective])).toEqual([[1, 'complete', { lr: 0.2 }, 0.2], [2, 'interrupted', { lr: 0.05 }, null]]);
    expect(after.trials[0]).toMatchObject({ epochs: [{ epoch: 1, metrics: { score: 0.2 } }], started: '2026-11-01T10:00:01.000Z', runDir: '/tmp/old-runs/trial-0001' });
    expectOneLine(await runCli('tune', 'migrate', path), /\.v1 already exists: .* seems migrated already/);

    const resumed = await tune({ studyPath: path, resume: true, trialFunction: lrTrial, runsDir: join(tempDir(), 'runs') });
    expect(resumed.trials.map((t) => [t.id, t.status, t.params])).toEqual([[1, 'complete', { lr: 0.2 }], [2, 'complete', { lr: 0.05 }]]);
    expect(resumed.trials[1]).toMatchObject({ attempts: 2, note: expect.stringMatching(/re-queued on resume/) });
  });

  it('a study in which every trial fails exits 1 with the most common failure', async () => {
    const dir = tempDir();
    const config = join(dir, 'typo.yaml');
    // lr below zero: the trainer rejects every trial before it loads any data.
    writeFileSync(config, toYaml({ space: { lr: { uniform: [-0.2, -0.1] } }, objective: { metric: 'val_accuracy', mode: 'max' }, strategy: 'random', trials: 2, parallel: 2, train: { model: 'mlp', data: 'mnist', epochs: 1, limit: 200 } }));
    const run = await runCli('tune', config, '--study', join(dir, 'typo.db'));
    expect(run.code).toBe(1);
    expect(run.err).toHaveLength(1);
    expect(run.err[0]).toMatch(/^regraft: no trial of study 'typo' completed; 2 of 2 failed with: .*lr/);
  });
});
