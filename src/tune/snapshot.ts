/**
 * A study as read back from its storage: what reports are made from, and what `tune` returns when it finishes.
 * `loadStudy(file)` reads a SQLite study file synchronously (either format); `loadStudyFrom` reads any storage.
 */
import { existsSync } from 'node:fs';
import { RegraftError } from '../errors.js';
import { parseStudyConfig, type StudyConfig } from './config.js';
import { isLegacyStudy, readLegacyStudy } from './store/legacy-v1.js';
import { chooseStudyName, describeTarget, listStudies, openReadableDriver, storageTarget, type StorageTarget } from './store/open-store.js';
import { OPTUNA_SCHEMA_REVISION, revisionMismatch } from './store/schema.js';
import { SqliteDriver } from './store/sqlite-driver.js';
import { SqlStudyStore } from './store/sql-study-store.js';
import { STUDY_INFO_QUERIES, spaceOf, studyInfoFromRows } from './store/study-rows.js';
import type { StoredStudy } from './store/study-store.js';
import { assembleTrials, readStudyRowsSync } from './store/trial-rows.js';
import type { TrialRecord, TrialStatus } from './types.js';

export interface StudySnapshot {
  name: string;
  config: StudyConfig;
  created: string;
  trials: TrialRecord[];
}

export interface StudySummary extends StudySnapshot {
  /** Where the study lives: the SQLite file, or the storage URL without its password. */
  studyPath: string;
  /** The best complete trial, or null when none completed. */
  best: TrialRecord | null;
  counts: Record<TrialStatus, number>;
  /** Why the study stopped before running all its trials ('SIGINT', 'SIGTERM', 'aborted'), or null. */
  interrupted: string | null;
}

/** The snapshot of a study from its stored rows; a study Optuna made without a regraft config cannot be reported. */
export function snapshotOf(info: StoredStudy, trials: TrialRecord[], where: string): StudySnapshot {
  if (info.config === null) {
    throw new RegraftError(`${where} was made by Optuna, not by regraft: it has no regraft config; join it once with 'regraft tune CONFIG --storage URL --study-name ${info.name}'`);
  }
  return { name: info.name, config: parseStudyConfig(info.config, { source: where }), created: info.created ?? '', trials };
}

/** Reads a SQLite study file (read-only), e.g. to report on a study that is still running elsewhere. */
export function loadStudy(studyPath: string, opts: { studyName?: string } = {}): StudySummary {
  if (!existsSync(studyPath)) throw new RegraftError(`${studyPath}: no such study file; check the path`);
  const driver = SqliteDriver.open(studyPath, { readonly: true });
  try {
    if (isLegacyStudy(driver.db)) {
      const legacy = readLegacyStudy(driver.db, studyPath);
      const snapshot = { name: legacy.name, config: parseStudyConfig(legacy.config, { source: studyPath }), created: legacy.created, trials: legacy.trials };
      return summarize(snapshot, studyPath, null);
    }
    const q = driver.sync;
    const revision = (() => {
      try {
        return q.get<{ version_num: string }>(`SELECT version_num FROM alembic_version`)?.version_num ?? '(none)';
      } catch {
        throw new RegraftError(`${studyPath} holds no study yet (no Optuna tables); run a study into it first`);
      }
    })();
    if (revision !== OPTUNA_SCHEMA_REVISION) throw new RegraftError(revisionMismatch(`study file ${studyPath}`, revision));
    const studies = q.all<{ study_id: number; study_name: string }>(`SELECT study_id, study_name FROM studies ORDER BY study_id`);
    const name = chooseStudyName(studies.map((s) => s.study_name), { requested: opts.studyName, where: `study file ${studyPath}` });
    const study = studies.find((s) => s.study_name === name);
    if (!study) throw unknownStudy(name ?? '', `study file ${studyPath}`, studies.map((s) => s.study_name));
    const info = studyInfoFromRows(study.study_id, study.study_name, q.all(STUDY_INFO_QUERIES.attrs, [study.study_id]), q.get(STUDY_INFO_QUERIES.direction, [study.study_id]));
    const { space, metric } = spaceOf(info.config);
    const trials = assembleTrials(readStudyRowsSync((sql, params) => q.all(sql, params), study.study_id), space, metric).map((t) => t.record);
    return summarize(snapshotOf(info, trials, `study '${study.study_name}' in ${studyPath}`), studyPath, null);
  } finally {
    driver.db.close();
  }
}

/** Reads a study from any storage: `{ study: FILE }` or `{ storage: URL }`, with `studyName` when it holds several. */
export async function loadStudyFrom(where: { study?: string; storage?: string; studyName?: string }): Promise<StudySummary> {
  const target: StorageTarget = storageTarget(where);
  if (target.kind === 'sqlite') return loadStudy(target.path, { studyName: where.studyName });
  const driver = await openReadableDriver(target);
  try {
    const names = await listStudies(driver);
    const name = chooseStudyName(names, { requested: where.studyName, where: describeTarget(target) });
    if (name === null || !names.includes(name)) throw unknownStudy(name ?? '', describeTarget(target), names);
    const studyId = await driver.transaction(async (tx) => Number((await tx.get<{ study_id: number }>(`SELECT study_id FROM studies WHERE study_name = ?`, [name]))?.study_id));
    const store = new SqlStudyStore(driver, studyId, name);
    const info = await store.info();
    const trials = (await store.trials()).map((t) => t.record);
    return summarize(snapshotOf(info, trials, store.where), describeTarget(target), null);
  } finally {
    await driver.close();
  }
}

export function unknownStudy(name: string, where: string, names: readonly string[]): RegraftError {
  const known = names.length === 0 ? 'it holds no study' : `it holds ${names.map((n) => `'${n}'`).join(', ')}`;
  return new RegraftError(`no study named '${name}' in ${where} (${known}); check --study-name`);
}

export function summarize(snapshot: StudySnapshot, studyPath: string, interrupted: string | null): StudySummary {
  const counts: Record<TrialStatus, number> = { queued: 0, running: 0, complete: 0, pruned: 0, failed: 0, interrupted: 0 };
  for (const t of snapshot.trials) counts[t.status]++;
  const complete = snapshot.trials.filter((t) => t.status === 'complete' && t.objective !== null);
  const sign = snapshot.config.objective.mode === 'max' ? -1 : 1;
  const best = complete.reduce<TrialRecord | null>(
    (acc, t) => (acc === null || sign * (t.objective as number) < sign * (acc.objective as number) ? t : acc),
    null,
  );
  return { ...snapshot, studyPath, best, counts, interrupted };
}
