/** Messages between the process pool (parent) and a trial worker (child), sent with structured clone (NaN survives). */
import type { TrialJob } from './executor.js';
import type { EpochDecision, Metrics } from './types.js';

export type ParentMessage =
  | { type: 'run'; job: TrialJob; modulePath: string; threads: number }
  | { type: 'decision'; seq: number; decision: EpochDecision };

export type WorkerMessage =
  | { type: 'epoch'; seq: number; epoch: number; metrics: Metrics }
  | { type: 'result'; metrics: Metrics }
  | { type: 'error'; message: string };
