/**
 * `regraft tune migrate FILE`: converts a study file of regraft's first format into Optuna's schema in place, once.
 * The old file is kept beside it as FILE.v1; its `train:` sidecar (FILE.train.json), if any, moves into the study.
 * Every trial keeps its number, parameters, state, objective, metrics, epochs, note and run folder; trials that were
 * queued, interrupted or left running become WAITING, to run on the next resume.
 */
import Database from 'better-sqlite3';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { RegraftError } from '../../errors.js';
import { parseStudyConfig } from '../config.js';
import type { TrialRecord, TrialStatus } from '../types.js';
import { TRIAL_ATTR, encodeMetrics, epochKey, valueColumns } from './attributes.js';
import { distributionOf, toInternal } from './distributions.js';
import { isLegacyStudy, readLegacyStudy } from './legacy-v1.js';
import type { SqlTx } from './sql-driver.js';
import { SqliteDriver } from './sqlite-driver.js';
import { ensureOptunaSchema } from './open-store.js';
import { openSqlStudy } from './sql-study-store.js';

const STATES: Record<TrialStatus, string> = {
  complete: 'COMPLETE', pruned: 'PRUNED', failed: 'FAIL', queued: 'WAITING', interrupted: 'WAITING', running: 'WAITING',
};

/** "2026-12-07T03:24:47.947Z" as a naive UTC timestamp, as Optuna stores it. */
function naiveUtc(iso: string | null): string | null {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : `${d.toISOString().replace('T', ' ').replace('Z', '')}000`;
}

export async function migrateLegacyStudyFile(path: string): Promise<{ study: string; trials: number; backup: string }> {
  if (!existsSync(path)) throw new RegraftError(`${path}: no such study file; check the path`);
  const backup = `${path}.v1`;
  if (existsSync(backup)) throw new RegraftError(`${backup} already exists: ${path} seems migrated already; move ${backup} away to migrate again`);
  // Opened for writing so that closing checkpoints its WAL into the file that is kept.
  const old = new Database(path);
  let legacy;
  try {
    if (!isLegacyStudy(old)) throw new RegraftError(`${path} is not a study in regraft's first format (nothing to migrate)`);
    legacy = readLegacyStudy(old, path);
  } finally {
    old.close();
  }
  const config = parseStudyConfig(legacy.config, { source: path });
  const sidecar = `${path}.train.json`;
  const train = existsSync(sidecar) ? (JSON.parse(readFileSync(sidecar, 'utf8')) as unknown) : undefined;

  renameSync(path, backup);
  const driver = SqliteDriver.open(path);
  try {
    await ensureOptunaSchema(driver);
    const store = await openSqlStudy(driver, legacy.name, { direction: config.objective.mode, config, train });
    if (!store) throw new RegraftError(`${path}: could not create study '${legacy.name}'`);
    const metric = config.pruner?.metric ?? config.objective.metric;
    await driver.transaction(async (tx) => {
      for (const trial of legacy.trials) await importTrial(tx, store.studyId, trial, config.space, metric);
    });
    return { study: legacy.name, trials: legacy.trials.length, backup };
  } finally {
    await driver.close();
  }
}

async function importTrial(tx: SqlTx, studyId: number, t: TrialRecord, space: ReturnType<typeof parseStudyConfig>['space'], metric: string): Promise<void> {
  const state = STATES[t.status];
  const finished = state !== 'WAITING';
  const row = await tx.get<{ trial_id: number }>(
    `INSERT INTO trials (number, study_id, state, datetime_start, datetime_complete) VALUES (?, ?, ?, ?, ?) RETURNING trial_id`,
    [t.id - 1, studyId, state, finished ? naiveUtc(t.started) : null, finished ? naiveUtc(t.finished) : null],
  );
  const dbId = Number(row?.trial_id);
  const attr = (key: string, valueJson: string) =>
    tx.run(`INSERT INTO trial_system_attributes (trial_id, "key", value_json) VALUES (?, ?, ?)`, [dbId, key, valueJson]);
  for (const [name, value] of Object.entries(t.params)) {
    // A parameter the space no longer has (a space edited between runs) is kept as a one-choice categorical.
    const distribution = distributionOf(space[name] ?? { kind: 'fixed', value });
    await tx.run(`INSERT INTO trial_params (trial_id, param_name, param_value, distribution_json) VALUES (?, ?, ?, ?)`,
      [dbId, name, toInternal(distribution, value, name), JSON.stringify(distribution)]);
  }
  if (finished && t.objective !== null && state !== 'FAIL') {
    const { value, type } = valueColumns(t.objective);
    await tx.run(`INSERT INTO trial_values (trial_id, objective, value, value_type) VALUES (?, 0, ?, ?)`, [dbId, value, type]);
  }
  if (finished) {
    for (const e of t.epochs) {
      await attr(epochKey(e.epoch), JSON.stringify(encodeMetrics(e.metrics)));
      const v = e.metrics[metric];
      if (typeof v === 'number') {
        const { value, type } = valueColumns(v);
        await tx.run(`INSERT INTO trial_intermediate_values (trial_id, step, intermediate_value, intermediate_value_type) VALUES (?, ?, ?, ?)`, [dbId, e.epoch, value, type]);
      }
    }
    await attr(TRIAL_ATTR.metrics, JSON.stringify(encodeMetrics(t.metrics)));
  }
  if (t.error !== null) await attr(TRIAL_ATTR.error, JSON.stringify(t.error));
  const note = t.status === 'running' ? 'left running by a study that was killed' : t.note;
  if (note !== null) await attr(TRIAL_ATTR.note, JSON.stringify(note));
  if (t.status === 'interrupted') await attr(TRIAL_ATTR.interrupted, JSON.stringify('interrupted before the migration'));
  await attr(TRIAL_ATTR.runDir, JSON.stringify(t.runDir));
  await attr(TRIAL_ATTR.attempts, JSON.stringify(t.attempts));
}
