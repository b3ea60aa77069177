/**
 * Early stopping with asynchronous successive halving (ASHA; Li et al., "A System for Massively Parallel
 * Hyperparameter Tuning", 2020). Rungs sit at minEpochs * eta^k epochs. When a trial reaches a rung, its metric is
 * compared with every value recorded at that rung so far: it goes on only if it is in the top 1/eta of them.
 *
 * Trials cannot be paused and resumed later here, so a trial that is not promotable is stopped rather than parked.
 * While fewer than eta trials have reached a rung, "top 1/eta" would be nobody; as in Optuna's successive halving
 * pruner, a trial then goes on only if it is the best so far at that rung. `minTrialsAtRung` softens this start:
 * until that many trials reached a rung, everybody continues.
 */
import type { AshaConfig } from './config.js';
import type { EpochDecision, EpochRecord, Metrics } from './types.js';

export interface Pruner {
  /** Records a trial's epoch and decides whether the trial should go on. */
  report(trialId: number, epoch: number, metrics: Metrics): EpochDecision;
  /** Records the epochs of a trial that ran before (a resumed study), without deciding anything. */
  restore(trialId: number, epochs: readonly EpochRecord[]): void;
  /** Drops what was recorded for a trial that will be rerun from scratch. */
  forget(trialId: number): void;
}

/** The pruner of a study without one: every trial runs to the end. */
export class NoPruner implements Pruner {
  report(): EpochDecision {
    return 'continue';
  }
  restore(): void {}
  forget(): void {}
}

export class AshaPruner implements Pruner {
  /** rung index -> trial id -> metric value when the trial reached the rung */
  private readonly rungs = new Map<number, Map<number, number>>();
  private readonly stopped = new Set<number>();

  constructor(private readonly config: AshaConfig) {}

  rungEpoch(k: number): number {
    return rungEpoch(this.config, k);
  }

  report(trialId: number, epoch: number, metrics: Metrics): EpochDecision {
    if (this.stopped.has(trialId)) return 'stop';
    const reached = this.record(trialId, epoch, metrics);
    if (reached === null) return 'continue';
    const decision = this.promotable(trialId, reached) ? 'continue' : 'stop';
    if (decision === 'stop') this.stopped.add(trialId);
    return decision;
  }

  restore(trialId: number, epochs: readonly EpochRecord[]): void {
    for (const e of [...epochs].sort((a, b) => a.epoch - b.epoch)) this.record(trialId, e.epoch, e.metrics);
  }

  forget(trialId: number): void {
    for (const values of this.rungs.values()) values.delete(trialId);
    this.stopped.delete(trialId);
  }

  /** Records the trial at every rung it reached with this epoch; returns the highest such rung, or null. */
  private record(trialId: number, epoch: number, metrics: Metrics): number | null {
    let highest: number | null = null;
    for (let k = 0; this.rungEpoch(k) <= epoch; k++) {
      const rungEpoch = this.rungEpoch(k);
      if (this.config.maxEpochs !== undefined && rungEpoch >= this.config.maxEpochs) break;
      const values = this.rungs.get(k) ?? new Map<number, number>();
      this.rungs.set(k, values);
      if (values.has(trialId)) continue;
      // A missing or NaN metric ranks last: such a trial is never promoted over one with a real value.
      const raw = metrics[this.config.metric];
      values.set(trialId, typeof raw === 'number' && Number.isFinite(raw) ? raw : NaN);
      highest = k;
    }
    return highest;
  }

  private promotable(trialId: number, rung: number): boolean {
    const values = this.rungs.get(rung) as Map<number, number>;
    const value = values.get(trialId) as number;
    if (Number.isNaN(value)) return false;
    return isPromotable(value, [...values.values()], values.size, this.config);
  }
}

/** Rung k's epoch: minEpochs * eta^k. */
export function rungEpoch(config: AshaConfig, k: number): number {
  return Math.round(config.minEpochs * config.eta ** k);
}

/** The rungs a trial reaches at `epoch` (ascending); none at or beyond maxEpochs. */
export function rungsUpTo(config: AshaConfig, epoch: number): number[] {
  const rungs: number[] = [];
  for (let k = 0; rungEpoch(config, k) <= epoch; k++) {
    if (config.maxEpochs !== undefined && rungEpoch(config, k) >= config.maxEpochs) break;
    rungs.push(k);
  }
  return rungs;
}

/**
 * Whether `value` goes on past a rung where `competing` were recorded (this trial's own value among them;
 * `reached` counts every trial at the rung, those without a usable value included): it must be in the top
 * 1/eta, or the best while fewer than eta trials got there.
 */
export function isPromotable(value: number, competing: readonly number[], reached: number, config: AshaConfig): boolean {
  if (reached < config.minTrialsAtRung) return true;
  const better = (a: number, b: number) => (config.mode === 'max' ? b - a : a - b);
  const ranked = competing.filter((v) => !Number.isNaN(v)).sort(better);
  const keep = Math.max(Math.floor(reached / config.eta), 1);
  return better(value, ranked[Math.min(keep, ranked.length) - 1]) <= 0;
}

export function createPruner(config: AshaConfig | null): Pruner {
  return config ? new AshaPruner(config) : new NoPruner();
}
