/**
 * ASHA over the study store, so that every worker's trials compete at a rung: reaching rung k writes the trial's
 * value as its `completed_rung_<k>` system attribute (as Optuna's SuccessiveHalvingPruner does) and compares it with
 * every value recorded there by any worker. The rule itself is pruner.ts's isPromotable.
 */
import type { AshaConfig } from './config.js';
import { isPromotable, rungsUpTo } from './pruner.js';
import type { StudyStore } from './store/study-store.js';
import type { EpochDecision, Metrics } from './types.js';

export class StudyPruner {
  /** Rungs each running trial (by database id) already passed in its current attempt. */
  private readonly passed = new Map<number, Set<number>>();

  constructor(private readonly config: AshaConfig | null, private readonly store: StudyStore) {}

  async report(dbId: number, epoch: number, metrics: Metrics): Promise<EpochDecision> {
    if (!this.config) return 'continue';
    const passed = this.passed.get(dbId) ?? new Set<number>();
    this.passed.set(dbId, passed);
    for (const rung of rungsUpTo(this.config, epoch)) {
      if (passed.has(rung)) continue;
      passed.add(rung);
      const value = metrics[this.config.metric];
      // A missing or NaN metric is never promoted, and is not recorded where Optuna would read it as a value.
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'stop';
      const competing = await this.store.reachRung(dbId, rung, value);
      if (!isPromotable(value, competing, competing.length, this.config)) return 'stop';
    }
    return 'continue';
  }

  forget(dbId: number): void {
    this.passed.delete(dbId);
  }
}
