/**
 * What every search strategy offers the study driver: given everything tried so far, the parameters of the next
 * trial. Strategies keep no state between calls; what they need is in the history (which is what makes a resumed
 * study continue where it stopped) and in a random stream derived from the study seed and the trial id (which makes
 * trial N get the same suggestion for the same history, whatever ran in parallel before it).
 */
import { Rng } from '../../util/rng.js';
import type { SearchSpace } from '../space.js';
import type { ObjectiveMode, Params, TrialRecord } from '../types.js';

export interface TpeOptions {
  /** Trials sampled at random before TPE takes over. */
  startupTrials?: number;
  /** Fraction of the finished trials that form the "good" group. */
  gamma?: number;
  /** Candidates drawn from the good density per parameter; the best ratio wins. */
  candidates?: number;
}

/** The `strategy` section of a study config: which strategy searches, with TPE's settings. */
export type StrategyConfig = { name: 'grid' } | { name: 'random' } | ({ name: 'tpe' } & TpeOptions);

/** What building a strategy reads of a study config (a StudyConfig is one), so that strategies/ need not know it. */
export interface StrategySetup {
  strategy: StrategyConfig;
  space: SearchSpace;
  seed: number;
  trials: number;
  objective: { mode: ObjectiveMode };
}

export type HistoryTrial = Pick<TrialRecord, 'id' | 'params' | 'status' | 'objective'>;

export interface Strategy {
  readonly name: string;
  /** Parameters for trial `trialId`, or null when there is nothing left to try (an exhausted grid). */
  suggest(history: readonly HistoryTrial[], trialId: number): Params | null;
}

/** Purposes of the per-trial random streams, so that no two uses of randomness share draws. */
export const STREAM = { randomSearch: 1, tpe: 2, trialSeed: 3 } as const;

/** A random stream for one (seed, trial, purpose): independent of how many draws earlier trials made. */
export function trialRng(seed: number, trialId: number, purpose: number): Rng {
  let h = 0x811c9dc5;
  for (const word of [seed, trialId, purpose]) {
    h = Math.imul(h ^ (word >>> 0), 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
  }
  return new Rng(h >>> 0);
}

/** Lower is better, whatever the study's mode, so strategies need only one comparison. */
export function toLoss(objective: number, mode: ObjectiveMode): number {
  return mode === 'max' ? -objective : objective;
}
