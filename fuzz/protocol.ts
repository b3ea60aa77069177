/** The messages between the fuzz pool and its worker processes. */
import type { StageFailure, StageResults } from './targets.js';

export type ToWorker = { type: 'start'; seed: number; folder: string } | { type: 'case'; id: number };

export type ToPool =
  | { type: 'result'; id: number; results: StageResults; failure?: StageFailure; ms: number }
  /** An error nothing caught (the worker exits after sending it). */
  | { type: 'uncaught'; message: string; stack: string };
