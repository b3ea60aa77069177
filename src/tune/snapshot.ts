/** A study as read back from its file: what reports are made from, and what `tune` returns when it finishes. */
import { parseStudyConfig, type StudyConfig } from './config.js';
import { StudyStorage } from './storage.js';
import type { TrialRecord, TrialStatus } from './types.js';
import { RegraftError } from '../errors.js';

export interface StudySnapshot {
  name: string;
  config: StudyConfig;
  created: string;
  trials: TrialRecord[];
}

export interface StudySummary extends StudySnapshot {
  studyPath: string;
  /** The best complete trial, or null when none completed. */
  best: TrialRecord | null;
  counts: Record<TrialStatus, number>;
  /** Why the study stopped before running all its trials ('SIGINT', 'SIGTERM', 'aborted'), or null. */
  interrupted: string | null;
}

export function readSnapshot(storage: StudyStorage): StudySnapshot {
  const stored = storage.getStudy();
  if (!stored) throw new RegraftError(`study file ${storage.path} holds no study yet; run a study into it first`);
  return {
    name: stored.name,
    config: parseStudyConfig(stored.config, { source: storage.path }),
    created: stored.created,
    trials: storage.trials(),
  };
}

/** Reads a study file (read-only), e.g. to report on a study that is still running elsewhere. */
export function loadStudy(studyPath: string): StudySummary {
  const storage = StudyStorage.open(studyPath, { readonly: true });
  try {
    return summarize(readSnapshot(storage), studyPath, null);
  } finally {
    storage.close();
  }
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
