/**
 * The contract between the tuning engine and whatever trains a model for one trial (the trainer's `train(config)`,
 * or a synthetic objective in tests). A trial module is an ES module file exporting `runTrial: TrialFunction`; the
 * process pool imports it by path inside each worker, the inline executor calls the function directly.
 */

export type ParamValue = number | string | boolean;
export type Params = Record<string, ParamValue>;
export type Metrics = Record<string, number>;

export type EpochDecision = 'continue' | 'stop';

export interface TrialContext {
  /** 1-based number of the trial inside its study; stable across resumes. */
  readonly trialId: number;
  /** A folder reserved for this trial's outputs (created before the trial starts, emptied before a rerun). */
  readonly runDir: string;
  /** A seed derived from the study seed and the trial id: use it when the parameters carry no `seed`. */
  readonly seed: number;
  /**
   * Compute threads the trial should use (onnxruntime's intraOpNumThreads): 1 in pool workers, so that parallel
   * trials do not oversubscribe the cores; 0 means "let the runtime decide" (the inline executor's default).
   */
  readonly threads: number;
  /**
   * Called once per finished epoch (1-based) with that epoch's metrics. Returns 'stop' when the pruner (ASHA) has
   * decided the trial is not worth continuing: the trial should then return its metrics as they stand.
   */
  report(epoch: number, metrics: Metrics): Promise<EpochDecision> | EpochDecision;
}

/** Runs one trial and returns its final metrics (the objective metric among them). */
export type TrialFunction = (params: Params, ctx: TrialContext) => Promise<Metrics>;

/**
 * queued: created (or re-queued after an interruption) and waiting; running: handed to an executor;
 * complete/pruned/failed: final; interrupted: was running when the study was stopped, re-queued by a resume.
 */
export type TrialStatus = 'queued' | 'running' | 'complete' | 'pruned' | 'failed' | 'interrupted';

export interface EpochRecord {
  epoch: number;
  metrics: Metrics;
}

export interface TrialRecord {
  id: number;
  params: Params;
  status: TrialStatus;
  /** The objective metric of a complete trial, or its last reported value for a pruned one; null otherwise. */
  objective: number | null;
  /** Final metrics (complete), last reported metrics (pruned), or whatever was known (failed). */
  metrics: Metrics;
  error: string | null;
  /** Why a trial was rerun, or anything else worth knowing when reading the study later. */
  note: string | null;
  runDir: string;
  /** How many times the trial was started (more than 1 after interruptions). */
  attempts: number;
  started: string | null;
  finished: string | null;
  epochs: EpochRecord[];
}

export type ObjectiveMode = 'min' | 'max';
