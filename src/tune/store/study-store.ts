/**
 * The study store: everything the study driver and the reports need from wherever a study lives. One
 * implementation (sql-study-store.ts) serves both backends; what differs between SQLite and PostgreSQL is in their
 * drivers. Every method is one transaction, so a worker killed at any moment leaves the study consistent.
 */
import type { SearchSpace } from '../space.js';
import type { HistoryTrial } from '../strategies/strategy.js';
import type { Metrics, ObjectiveMode, Params } from '../types.js';
import type { StoredTrial } from './trial-rows.js';

export interface StoredStudy {
  studyId: number;
  name: string;
  /** The study's direction (study_directions), null when it has none yet. */
  direction: ObjectiveMode | null;
  /** The regraft config the study was created or adopted with (raw JSON), or null for a study made by Optuna. */
  config: unknown;
  /** The CLI's base training settings, or null. */
  train: unknown;
  created: string | null;
}

/** A trial this worker now owns: RUNNING in the store, heartbeat started. */
export interface ClaimedTrial {
  dbId: number;
  /** regraft's 1-based trial id (Optuna's number + 1). */
  id: number;
  params: Params;
  runDir: string;
  /** 1 for a first run; more when a put-back trial runs again. */
  attempt: number;
}

export interface ClaimContext {
  /** This worker's identity, recorded on the trial ("host:pid:starttime"). */
  worker: string;
  space: SearchSpace;
  runDirFor(trialId: number): string;
  /** How to say who re-queued a trial in its note: "on resume" or "by worker host:pid". */
  claimedBy: string;
}

export interface NewTrialRequest extends ClaimContext {
  /** Parameters for the next trial given every finished trial, or null when the strategy has nothing left. */
  suggest(history: readonly HistoryTrial[], trialId: number): Params | null;
}

export interface WaitingTrialRequest extends ClaimContext {
  /** Completes the values a WAITING trial was enqueued with (Optuna's fixed_params) into full parameters; throws when one is outside the space. */
  completeParams(given: Record<string, unknown>, trialId: number): Params;
}

export interface TrialResult {
  state: 'COMPLETE' | 'PRUNED' | 'FAIL';
  objective: number | null;
  metrics: Metrics;
  error?: string;
}

export interface StaleTrial {
  /** regraft id of the trial marked FAIL. */
  failed: number;
  /** regraft id of its retry (a new WAITING trial with the same parameters), or null when it was a retry already. */
  retry: number | null;
}

export interface StudyStore {
  /** "study 'x' in study file runs/x.db", for messages. */
  readonly where: string;
  readonly name: string;
  info(): Promise<StoredStudy>;
  setStudyAttributes(attrs: { config?: unknown; train?: unknown; direction?: ObjectiveMode }): Promise<void>;
  trials(): Promise<StoredTrial[]>;
  /** RUNNING trials whose worker is known to be gone (same host, process dead) go back to WAITING. */
  requeueOrphans(isGone: (worker: string) => boolean): Promise<number[]>;
  /** Optuna's fail_stale_trials with RetryFailedTrialCallback(max_retry): FAIL, then a WAITING copy. */
  failStaleTrials(graceSeconds: number, maxRetry: number): Promise<StaleTrial[]>;
  /** The first WAITING trial, claimed for this worker; null when none waits. */
  claimWaiting(request: WaitingTrialRequest): Promise<ClaimedTrial | null>;
  /** A new trial under the study lock, unless the study's trial budget is spent or the strategy is exhausted. */
  createTrial(request: NewTrialRequest): Promise<ClaimedTrial | null>;
  heartbeat(dbIds: readonly number[]): Promise<void>;
  recordEpoch(dbId: number, epoch: number, metrics: Metrics, intermediate: number | null): Promise<void>;
  /** Records the trial's value at an ASHA rung and returns every trial's value there (this one's included). */
  reachRung(dbId: number, rung: number, value: number): Promise<number[]>;
  /** Finishes a RUNNING trial; false when it is no longer RUNNING (failed as stale by another worker meanwhile). */
  finishTrial(dbId: number, result: TrialResult): Promise<boolean>;
  /** Ctrl-C: this worker's RUNNING trials go back to WAITING, to run again from scratch, never recorded as failed. */
  putBack(dbIds: readonly number[], reason: string): Promise<void>;
  counts(): Promise<{ running: number; waiting: number }>;
  close(): Promise<void>;
}
