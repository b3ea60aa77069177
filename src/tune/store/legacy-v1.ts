/**
 * Studies in regraft's first format (before the Optuna schema): one study per SQLite file, `PRAGMA user_version = 1`,
 *
 *   study(id = 1, name, config JSON, created)
 *   trials(id, params JSON, status, objective, metrics JSON, error, note, run_dir, attempts, started, finished)
 *   trial_epochs(trial_id, epoch, metrics JSON)
 *
 * Such files are read as they are (`tune report`, `tune export`) and converted once by `regraft tune migrate`
 * (migrate.ts); nothing writes this format any more.
 */
import Database from 'better-sqlite3';
import { RegraftError, describeError } from '../../errors.js';
import type { EpochRecord, Params, TrialRecord, TrialStatus } from '../types.js';
import { decodeMetrics } from './attributes.js';

export const LEGACY_SCHEMA_VERSION = 1;

export interface LegacyStudy {
  name: string;
  config: unknown;
  created: string;
  trials: TrialRecord[];
}

/** Whether an open SQLite database is a study in the first format. */
export function isLegacyStudy(db: Database.Database): boolean {
  const tables = new Set((db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map((r) => r.name));
  return tables.has('study') && tables.has('trials') && !tables.has('studies') && db.pragma('user_version', { simple: true }) === LEGACY_SCHEMA_VERSION;
}

interface TrialRow {
  id: number;
  params: string;
  status: TrialStatus;
  objective: number | null;
  metrics: string;
  error: string | null;
  note: string | null;
  run_dir: string;
  attempts: number;
  started: string | null;
  finished: string | null;
}

export function readLegacyStudy(db: Database.Database, path: string): LegacyStudy {
  try {
    const study = db.prepare(`SELECT name, config, created FROM study WHERE id = 1`).get() as { name: string; config: string; created: string } | undefined;
    if (!study) throw new Error('it holds no study');
    const rows = db.prepare(`SELECT * FROM trials ORDER BY id`).all() as TrialRow[];
    const epochs = db.prepare(`SELECT trial_id, epoch, metrics FROM trial_epochs ORDER BY trial_id, epoch`).all() as { trial_id: number; epoch: number; metrics: string }[];
    const byTrial = new Map<number, EpochRecord[]>();
    for (const e of epochs) byTrial.set(e.trial_id, [...(byTrial.get(e.trial_id) ?? []), { epoch: e.epoch, metrics: decodeMetrics(e.metrics) }]);
    const trials = rows.map((r): TrialRecord => ({
      id: r.id,
      params: JSON.parse(r.params) as Params,
      status: r.status,
      objective: r.objective,
      metrics: decodeMetrics(r.metrics),
      error: r.error,
      note: r.note,
      runDir: r.run_dir,
      attempts: r.attempts,
      started: r.started,
      finished: r.finished,
      epochs: byTrial.get(r.id) ?? [],
    }));
    return { name: study.name, config: JSON.parse(study.config) as unknown, created: study.created, trials };
  } catch (err) {
    throw new RegraftError(`cannot read study file ${path} (regraft's first study format): ${describeError(err)}`);
  }
}
