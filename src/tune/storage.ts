/**
 * One study per SQLite file (better-sqlite3, WAL journal): the config it was created with, every trial and every
 * epoch a trial reported. Each state change is one transaction, so a study killed at any moment leaves a file that
 * says exactly which trials finished; `requeueUnfinished` turns the rest back into queued trials for a resume.
 *
 *   study(id = 1, name, config JSON, created)
 *   trials(id, params JSON, status, objective, metrics JSON, error, note, run_dir, attempts, started, finished)
 *   trial_epochs(trial_id, epoch, metrics JSON)        primary key (trial_id, epoch)
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { RegraftError, describeError } from '../errors.js';
import type { EpochRecord, Metrics, Params, TrialRecord, TrialStatus } from './types.js';

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS study (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  name TEXT NOT NULL,
  config TEXT NOT NULL,
  created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
  id INTEGER PRIMARY KEY,
  params TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'complete', 'pruned', 'failed', 'interrupted')),
  objective REAL,
  metrics TEXT NOT NULL DEFAULT '{}',
  error TEXT,
  note TEXT,
  run_dir TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  started TEXT,
  finished TEXT
);
CREATE TABLE IF NOT EXISTS trial_epochs (
  trial_id INTEGER NOT NULL REFERENCES trials(id),
  epoch INTEGER NOT NULL,
  metrics TEXT NOT NULL,
  PRIMARY KEY (trial_id, epoch)
);
`;

export interface StoredStudy {
  name: string;
  /** The config as stored (JSON text parsed), to be validated again by the caller. */
  config: unknown;
  created: string;
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

export class StudyStorage {
  private constructor(private readonly db: Database.Database, readonly path: string) {}

  static open(path: string, opts: { readonly?: boolean } = {}): StudyStorage {
    if (opts.readonly && !existsSync(path)) throw new RegraftError(`study file ${path} does not exist`);
    let db: Database.Database;
    try {
      db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
      if (!opts.readonly) {
        db.pragma('journal_mode = WAL');
        // Under WAL, NORMAL keeps every committed transaction through a process kill (only power loss can drop one).
        db.pragma('synchronous = NORMAL');
        db.pragma('foreign_keys = ON');
        const version = db.pragma('user_version', { simple: true }) as number;
        const isEmpty = (db.prepare(`SELECT count(*) AS n FROM sqlite_master`).get() as { n: number }).n === 0;
        if (isEmpty) {
          db.exec(SCHEMA);
          db.pragma(`user_version = ${SCHEMA_VERSION}`);
        } else if (version !== SCHEMA_VERSION) {
          throw new Error(`not a regraft study (schema version ${version}, expected ${SCHEMA_VERSION})`);
        }
      }
    } catch (err) {
      throw new RegraftError(`cannot open study file ${path}: ${describeError(err)}`);
    }
    return new StudyStorage(db, path);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  getStudy(): StoredStudy | null {
    const row = this.db.prepare(`SELECT name, config, created FROM study WHERE id = 1`).get() as
      | { name: string; config: string; created: string }
      | undefined;
    return row ? { name: row.name, config: JSON.parse(row.config) as unknown, created: row.created } : null;
  }

  createStudy(name: string, config: unknown): void {
    this.db.prepare(`INSERT INTO study (id, name, config, created) VALUES (1, ?, ?, ?)`).run(name, JSON.stringify(config), now());
  }

  updateConfig(config: unknown): void {
    this.db.prepare(`UPDATE study SET config = ? WHERE id = 1`).run(JSON.stringify(config));
  }

  trialCount(): number {
    return (this.db.prepare(`SELECT count(*) AS n FROM trials`).get() as { n: number }).n;
  }

  trials(): TrialRecord[] {
    const rows = this.db.prepare(`SELECT * FROM trials ORDER BY id`).all() as TrialRow[];
    const epochs = this.db.prepare(`SELECT trial_id, epoch, metrics FROM trial_epochs ORDER BY trial_id, epoch`).all() as
      { trial_id: number; epoch: number; metrics: string }[];
    const byTrial = new Map<number, EpochRecord[]>();
    for (const e of epochs) {
      const list = byTrial.get(e.trial_id) ?? [];
      list.push({ epoch: e.epoch, metrics: decodeMetrics(e.metrics) });
      byTrial.set(e.trial_id, list);
    }
    return rows.map((r) => ({
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
  }

  /**
   * Creates trial number count+1, already running, unless the study has `total` trials: then returns null. The
   * check and the insert share a transaction, so no interleaving can push a study past its trial count.
   */
  startNewTrial(total: number, params: Params, runDirFor: (id: number) => string): number | null {
    return this.db.transaction(() => {
      const count = this.trialCount();
      if (count >= total) return null;
      const id = count + 1;
      this.db.prepare(
        `INSERT INTO trials (id, params, status, run_dir, attempts, started) VALUES (?, ?, 'running', ?, 1, ?)`,
      ).run(id, JSON.stringify(params), runDirFor(id), now());
      return id;
    })();
  }

  /** Starts a queued trial again; returns false if it was not queued (so it is never started twice). */
  startQueuedTrial(id: number): boolean {
    const result = this.db.prepare(
      `UPDATE trials SET status = 'running', attempts = attempts + 1, started = ?, finished = NULL WHERE id = ? AND status = 'queued'`,
    ).run(now(), id);
    return result.changes === 1;
  }

  recordEpoch(id: number, epoch: number, metrics: Metrics): void {
    this.db.prepare(`INSERT OR REPLACE INTO trial_epochs (trial_id, epoch, metrics) VALUES (?, ?, ?)`)
      .run(id, epoch, encodeMetrics(metrics));
  }

  finishTrial(
    id: number,
    result: { status: 'complete' | 'pruned' | 'failed'; objective: number | null; metrics: Metrics; error?: string },
  ): void {
    const objective = result.objective !== null && Number.isFinite(result.objective) ? result.objective : null;
    this.db.prepare(
      `UPDATE trials SET status = ?, objective = ?, metrics = ?, error = ?, finished = ? WHERE id = ?`,
    ).run(result.status, objective, encodeMetrics(result.metrics), result.error ?? null, now(), id);
  }

  /** Marks running trials as interrupted (the study was stopped); returns their ids. */
  markInterrupted(reason: string): number[] {
    return this.db.transaction(() => {
      const ids = (this.db.prepare(`SELECT id FROM trials WHERE status = 'running'`).all() as { id: number }[]).map((r) => r.id);
      this.db.prepare(`UPDATE trials SET status = 'interrupted', note = ?, finished = ? WHERE status = 'running'`)
        .run(`interrupted (${reason}) at ${now()}`, now());
      return ids;
    })();
  }

  /**
   * For a resume: trials left running (the study was killed) or interrupted go back to the queue with the same
   * parameters; their partial epochs are dropped because they rerun from scratch. Returns the re-queued ids.
   */
  requeueUnfinished(): number[] {
    return this.db.transaction(() => {
      const rows = this.db.prepare(`SELECT id, status FROM trials WHERE status IN ('running', 'interrupted')`).all() as
        { id: number; status: TrialStatus }[];
      const requeue = this.db.prepare(
        `UPDATE trials SET status = 'queued', note = ?, started = NULL, finished = NULL WHERE id = ?`,
      );
      const dropEpochs = this.db.prepare(`DELETE FROM trial_epochs WHERE trial_id = ?`);
      for (const row of rows) {
        const how = row.status === 'running' ? 'left running by a study that was killed' : 'interrupted';
        requeue.run(`${how}; re-queued on resume at ${now()}, rerun from scratch with the same parameters`, row.id);
        dropEpochs.run(row.id);
      }
      return rows.map((r) => r.id);
    })();
  }
}

function now(): string {
  return new Date().toISOString();
}

// JSON has no NaN or Infinity; spelling them as strings keeps a diverged trial's metrics readable after a reload.
function encodeMetrics(metrics: Metrics): string {
  return JSON.stringify(metrics, (_key, value: unknown) =>
    typeof value === 'number' && !Number.isFinite(value) ? String(value) : value);
}

function decodeMetrics(text: string): Metrics {
  return JSON.parse(text, (_key, value: unknown) =>
    value === 'NaN' || value === 'Infinity' || value === '-Infinity' ? Number(value) : value) as Metrics;
}
