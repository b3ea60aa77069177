/**
 * The keys regraft keeps in Optuna's attribute tables, how values are written there (the upserts every attribute write
 * of the study store goes through) and how they are read back. Optuna's own keys keep their meaning (`fixed_params`
 * from enqueue_trial, `failed_trial`/`retry_history` from the retry callback, `completed_rung_<k>` from the
 * successive-halving pruner); regraft's own are prefixed so Python users can tell them apart in `trial.system_attrs`.
 */
import type { Metrics } from '../types.js';
import type { SqlTx } from './sql-driver.js';

export const STUDY_ATTR = {
  /** The study config (space, objective, strategy, trials, ...) as parsed, JSON. */
  config: 'regraft:config',
  /** The CLI's `train:` base settings, so that `tune worker` needs nothing but the storage and the name. */
  train: 'regraft:train',
  created: 'regraft:created',
} as const;

export const TRIAL_ATTR = {
  /** Which worker process runs (or ran) the trial: "host:pid:starttime". */
  worker: 'regraft:worker',
  attempts: 'regraft:attempts',
  runDir: 'regraft:run_dir',
  note: 'regraft:note',
  error: 'regraft:error',
  metrics: 'regraft:metrics',
  /** Set on a WAITING trial that was running when its worker stopped (Ctrl-C), with the reason. */
  interrupted: 'regraft:interrupted',
  /** Per-epoch metrics: `regraft:epoch:<n>`. */
  epochPrefix: 'regraft:epoch:',
  // Optuna's own.
  fixedParams: 'fixed_params',
  failedTrial: 'failed_trial',
  retryHistory: 'retry_history',
} as const;

/** `completed_rung_<k>`: the value a trial had when it reached rung k, as Optuna's SuccessiveHalvingPruner writes it. */
export function rungKey(rung: number): string {
  return `completed_rung_${rung}`;
}

export function epochKey(epoch: number): string {
  return `${TRIAL_ATTR.epochPrefix}${epoch}`;
}

// JSON has no NaN or Infinity; spelling them as strings keeps a diverged trial's metrics readable after a reload.
export function encodeMetrics(metrics: Metrics): string {
  return JSON.stringify(metrics, (_key, value: unknown) =>
    typeof value === 'number' && !Number.isFinite(value) ? String(value) : value);
}

export function decodeMetrics(text: string): Metrics {
  return JSON.parse(text, (_key, value: unknown) =>
    value === 'NaN' || value === 'Infinity' || value === '-Infinity' ? Number(value) : value) as Metrics;
}

/** Optuna's value_type for trial_values / trial_intermediate_values, and the value column (NULL unless finite). */
export function valueColumns(value: number): { value: number | null; type: 'FINITE' | 'INF_POS' | 'INF_NEG' | 'NAN' } {
  if (Number.isNaN(value)) return { value: null, type: 'NAN' };
  if (value === Infinity) return { value: null, type: 'INF_POS' };
  if (value === -Infinity) return { value: null, type: 'INF_NEG' };
  return { value, type: 'FINITE' };
}

export function valueFromColumns(value: number | null, type: string): number {
  if (type === 'INF_POS') return Infinity;
  if (type === 'INF_NEG') return -Infinity;
  if (type === 'NAN' || value === null) return NaN;
  return Number(value);
}

/** A naive UTC timestamp from either database ("2026-12-07 03:24:47.947070") as an ISO string ("...47.947Z"). */
export function isoFromNaiveUtc(text: string | null): string | null {
  if (text === null || text === undefined) return null;
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?/.exec(String(text));
  if (!m) return String(text);
  return `${m[1]}T${m[2]}.${(m[3] ?? '').padEnd(3, '0').slice(0, 3)}Z`;
}

/** An attribute's JSON value; `fallback` when it is absent or not JSON. */
export function parseJsonOr<T>(text: string | undefined, fallback: T): T {
  if (text === undefined) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

export async function setStudyAttr(tx: SqlTx, studyId: number, key: string, valueJson: string): Promise<void> {
  await tx.run(
    `INSERT INTO study_system_attributes (study_id, "key", value_json) VALUES (?, ?, ?) ON CONFLICT (study_id, "key") DO UPDATE SET value_json = excluded.value_json`,
    [studyId, key, valueJson],
  );
}

/** Several attributes of one trial in one statement (one round trip to the server). */
export async function setTrialAttrs(tx: SqlTx, dbId: number, entries: readonly [string, unknown][]): Promise<void> {
  await tx.run(
    `INSERT INTO trial_system_attributes (trial_id, "key", value_json) VALUES ${entries.map(() => '(?, ?, ?)').join(', ')}
     ON CONFLICT (trial_id, "key") DO UPDATE SET value_json = excluded.value_json`,
    entries.flatMap(([key, value]) => [dbId, key, JSON.stringify(value)]),
  );
}

export async function setTrialAttr(tx: SqlTx, dbId: number, key: string, value: unknown): Promise<void> {
  await setTrialAttrs(tx, dbId, [[key, value]]);
}
