/**
 * What a study run reports as it goes (a trial started, reported an epoch, finished; the study finished; one-line
 * notices), and how a report reaches the caller: their callbacks, or events of their EventEmitter. The study driver
 * emits all but studyFinish, which tune() sends once the summary is read back.
 */
import { EventEmitter } from 'node:events';
import type { StudySummary } from './snapshot.js';
import type { EpochDecision, Metrics, Params, TrialRecord } from './types.js';

export interface TuneEventHandlers {
  trialStart(e: { trialId: number; params: Params; attempt: number; runDir: string }): void;
  trialEpoch(e: { trialId: number; epoch: number; metrics: Metrics; decision: EpochDecision }): void;
  trialFinish(trial: TrialRecord): void;
  studyFinish(summary: StudySummary): void;
  /** One-line news a user should see: the database lost and back, a trial failed for a missed heartbeat. */
  notice(line: string): void;
}

export type Emit = <K extends keyof TuneEventHandlers>(name: K, payload: Parameters<TuneEventHandlers[K]>[0]) => void;

export function emitterFor(events: Partial<TuneEventHandlers> | EventEmitter | undefined): Emit {
  return (name, payload) => {
    if (!events) return;
    if (events instanceof EventEmitter) events.emit(name, payload);
    else (events[name] as ((p: typeof payload) => void) | undefined)?.(payload);
  };
}
