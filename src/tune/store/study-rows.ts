/**
 * A study's own rows (its system attributes and its direction) read into a StoredStudy, and what of its stored config
 * the trial reader needs: the same queries for both backends, run synchronously on a SQLite file (loadStudy) or in a
 * store transaction, read by one pure function, as trial-rows.ts does for a study's trials.
 */
import { parseStudyConfig } from '../config.js';
import type { SearchSpace } from '../space.js';
import { STUDY_ATTR, parseJsonOr } from './attributes.js';
import type { StoredStudy } from './study-store.js';

/** A study's own rows: its system attributes and its direction; each query takes the study id. */
export const STUDY_INFO_QUERIES = {
  attrs: `SELECT "key" AS key, value_json FROM study_system_attributes WHERE study_id = ?`,
  direction: `SELECT direction FROM study_directions WHERE study_id = ? AND objective = 0`,
} as const;

export function studyInfoFromRows(
  studyId: number, name: string, attrRows: readonly { key: string; value_json: string }[], direction: { direction: string } | undefined,
): StoredStudy {
  const attrs = new Map(attrRows.map((r) => [r.key, r.value_json]));
  return {
    studyId,
    name,
    direction: direction?.direction === 'MAXIMIZE' ? 'max' : direction?.direction === 'MINIMIZE' ? 'min' : null,
    config: parseJsonOr<unknown>(attrs.get(STUDY_ATTR.config), null),
    train: parseJsonOr<unknown>(attrs.get(STUDY_ATTR.train), null),
    created: parseJsonOr<string | null>(attrs.get(STUDY_ATTR.created), null),
  };
}

/** The search space and the metric of intermediate values, from a stored config (null parts for a study Optuna made). */
export function spaceOf(config: unknown): { space: SearchSpace | null; metric: string | null } {
  if (config === null || config === undefined) return { space: null, metric: null };
  try {
    const parsed = parseStudyConfig(config);
    return { space: parsed.space, metric: parsed.pruner?.metric ?? parsed.objective.metric };
  } catch {
    return { space: null, metric: null };
  }
}
