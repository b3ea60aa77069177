/**
 * Reading a study's trials out of Optuna's tables into regraft's TrialRecord: the same queries for both backends
 * (run synchronously on a SQLite file, asynchronously anywhere), assembled by one pure function.
 *
 * regraft numbers trials from 1 (`trial-0001`), Optuna from 0: regraft's trial N is Optuna's trial number N-1.
 * States map as RUNNING -> running, COMPLETE -> complete, PRUNED -> pruned, FAIL -> failed, and WAITING -> queued,
 * or interrupted when a worker put it back (Ctrl-C) and said why.
 */
import type { SearchSpace } from '../space.js';
import type { EpochRecord, Metrics, Params, TrialRecord, TrialStatus } from '../types.js';
import { TRIAL_ATTR, decodeMetrics, isoFromNaiveUtc, valueFromColumns } from './attributes.js';
import { fromInternal, parseDistribution } from './distributions.js';
import type { SqlValue } from './sql-driver.js';

export interface TrialRow { trial_id: number; number: number; state: string; datetime_start: string | null; datetime_complete: string | null }
export interface ParamRow { trial_id: number; param_name: string; param_value: number; distribution_json: string }
export interface ValueRow { trial_id: number; value: number | null; value_type: string }
export interface IntermediateRow { trial_id: number; step: number; intermediate_value: number | null; intermediate_value_type: string }
export interface AttrRow { trial_id: number; key: string; value_json: string }

export interface StudyRows {
  trials: TrialRow[];
  params: ParamRow[];
  values: ValueRow[];
  intermediate: IntermediateRow[];
  attrs: AttrRow[];
}

/** The queries behind StudyRows, each taking the study id as its one parameter. */
export const STUDY_ROW_QUERIES: Record<keyof StudyRows, string> = {
  trials: `SELECT trial_id, number, state, datetime_start, datetime_complete FROM trials WHERE study_id = ? ORDER BY number, trial_id`,
  params: `SELECT p.trial_id, p.param_name, p.param_value, p.distribution_json FROM trial_params p JOIN trials t ON t.trial_id = p.trial_id WHERE t.study_id = ? ORDER BY p.param_id`,
  values: `SELECT v.trial_id, v.value, v.value_type FROM trial_values v JOIN trials t ON t.trial_id = v.trial_id WHERE t.study_id = ? AND v.objective = 0`,
  intermediate: `SELECT v.trial_id, v.step, v.intermediate_value, v.intermediate_value_type FROM trial_intermediate_values v JOIN trials t ON t.trial_id = v.trial_id WHERE t.study_id = ? ORDER BY v.step`,
  attrs: `SELECT a.trial_id, a."key" AS key, a.value_json FROM trial_system_attributes a JOIN trials t ON t.trial_id = a.trial_id WHERE t.study_id = ?`,
};

export async function readStudyRows(all: <T>(sql: string, params: SqlValue[]) => Promise<T[]>, studyId: number): Promise<StudyRows> {
  const rows = {} as StudyRows;
  for (const [name, sql] of Object.entries(STUDY_ROW_QUERIES) as [keyof StudyRows, string][]) {
    (rows as unknown as Record<string, unknown[]>)[name] = await all(sql, [studyId]);
  }
  return rows;
}

export function readStudyRowsSync(all: <T>(sql: string, params: SqlValue[]) => T[], studyId: number): StudyRows {
  const rows = {} as StudyRows;
  for (const [name, sql] of Object.entries(STUDY_ROW_QUERIES) as [keyof StudyRows, string][]) {
    (rows as unknown as Record<string, unknown[]>)[name] = all(sql, [studyId]);
  }
  return rows;
}

/** A trial as the store knows it: regraft's record plus what only the store needs. */
export interface StoredTrial {
  record: TrialRecord;
  dbId: number;
  number: number;
  state: string;
  attrs: Map<string, unknown>;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function assembleTrials(rows: StudyRows, space: SearchSpace | null, intermediateMetric: string | null): StoredTrial[] {
  const group = <R extends { trial_id: number }>(list: R[]) => {
    const map = new Map<number, R[]>();
    for (const r of list) {
      const key = Number(r.trial_id);
      map.set(key, [...(map.get(key) ?? []), r]);
    }
    return map;
  };
  const params = group(rows.params);
  const values = new Map(rows.values.map((v) => [Number(v.trial_id), v]));
  const intermediate = group(rows.intermediate);
  const attrs = group(rows.attrs);
  const spaceOrder = space ? Object.keys(space) : [];

  return rows.trials.map((t) => {
    const dbId = Number(t.trial_id);
    const attrMap = new Map((attrs.get(dbId) ?? []).map((a) => [a.key, parseJson(a.value_json)]));
    const decoded: Params = {};
    for (const p of params.get(dbId) ?? []) {
      decoded[p.param_name] = fromInternal(parseDistribution(p.distribution_json, `trial ${t.number}, parameter '${p.param_name}'`), Number(p.param_value));
    }
    const ordered: Params = {};
    for (const name of [...spaceOrder, ...Object.keys(decoded)]) if (name in decoded && !(name in ordered)) ordered[name] = decoded[name];

    const status = statusOf(t.state, attrMap);
    const valueRow = values.get(dbId);
    const objective = valueRow && (status === 'complete' || status === 'pruned') ? valueFromColumns(valueRow.value, valueRow.value_type) : null;
    const text = (key: string) => (typeof attrMap.get(key) === 'string' ? (attrMap.get(key) as string) : null);
    const metricsText = text(TRIAL_ATTR.metrics);

    let epochs: EpochRecord[] = [...attrMap.entries()]
      .filter(([key]) => key.startsWith(TRIAL_ATTR.epochPrefix))
      .map(([key, value]) => ({ epoch: Number(key.slice(TRIAL_ATTR.epochPrefix.length)), metrics: decodeMetrics(String(value)) }))
      .sort((a, b) => a.epoch - b.epoch);
    // A trial run by Python Optuna has intermediate values but no regraft epoch records: show those as epochs.
    if (epochs.length === 0 && intermediateMetric) {
      epochs = (intermediate.get(dbId) ?? []).map((v) => ({
        epoch: Number(v.step),
        metrics: { [intermediateMetric]: valueFromColumns(v.intermediate_value, v.intermediate_value_type) } as Metrics,
      }));
    }
    const attempts = Number(attrMap.get(TRIAL_ATTR.attempts) ?? (t.state === 'WAITING' ? 0 : 1));
    const record: TrialRecord = {
      id: Number(t.number) + 1,
      params: ordered,
      status,
      objective: objective !== null && Number.isNaN(objective) ? null : objective,
      metrics: metricsText ? decodeMetrics(metricsText) : {},
      error: text(TRIAL_ATTR.error),
      note: text(TRIAL_ATTR.note),
      runDir: text(TRIAL_ATTR.runDir) ?? '',
      attempts,
      started: isoFromNaiveUtc(t.datetime_start),
      finished: isoFromNaiveUtc(t.datetime_complete),
      epochs,
    };
    return { record, dbId, number: Number(t.number), state: t.state, attrs: attrMap };
  });
}

function statusOf(state: string, attrs: Map<string, unknown>): TrialStatus {
  switch (state) {
    case 'RUNNING':
      return 'running';
    case 'COMPLETE':
      return 'complete';
    case 'PRUNED':
      return 'pruned';
    case 'FAIL':
      return 'failed';
    default:
      return attrs.has(TRIAL_ATTR.interrupted) ? 'interrupted' : 'queued';
  }
}
