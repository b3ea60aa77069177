/**
 * The study driver: claims trials from the study store, hands them to an executor, relays per-epoch reports to the
 * pruner, and records everything in the store as it happens. The store is the single source of truth, shared by every
 * worker on every host: a killed worker loses nothing but the trials it was running (re-queued at once by a resume on
 * the same host, or failed by heartbeat and retried once by any other worker), and the strategy and ASHA see the
 * trials of every worker.
 *
 * One driver is one "worker" in the store's sense; it runs up to `parallel` trials at once in its executor.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RegraftError, describeError } from '../errors.js';
import type { StudyConfig } from './config.js';
import type { Executor, TrialOutcome } from './executor.js';
import { sampleSpace } from './strategies/random.js';
import { createStrategy } from './strategies/index.js';
import { STREAM, trialRng, type Strategy } from './strategies/strategy.js';
import { checkAgainstSpec } from './store/distributions.js';
import type { ClaimedTrial, StudyStore, TrialResult } from './store/study-store.js';
import type { Emit } from './study-events.js';
import { StudyPruner } from './study-pruner.js';
import type { Metrics, Params, TrialRecord } from './types.js';
import { currentWorker, isGoneWorker } from './worker-identity.js';

/** Retries of a trial that went stale (Optuna's RetryFailedTrialCallback max_retry). */
const MAX_RETRY = 1;

export interface DriverTiming {
  heartbeatMs: number;
  graceSeconds: number;
  claimedBy: string;
}

export class StudyDriver {
  private readonly pruner: StudyPruner;
  private readonly strategy: Strategy;
  private readonly worker = currentWorker();
  /** This worker's running trials, by database id. */
  private readonly running = new Map<number, { trial: ClaimedTrial; done: Promise<void> }>();
  private stopReason: string | null = null;
  private wakeUp: () => void = () => {};
  private heartbeatError: unknown = null;

  constructor(
    private readonly store: StudyStore & { readonly lastReconnect: number },
    private readonly config: StudyConfig,
    private readonly executor: Executor,
    private readonly runsDir: string,
    private readonly emit: Emit,
    private readonly timing: DriverTiming,
  ) {
    this.pruner = new StudyPruner(config.pruner, store);
    this.strategy = createStrategy(config);
  }

  /** Returns why the study stopped early, or null when its budget is spent. */
  async run(signal: AbortSignal | undefined, handleSignals: boolean): Promise<string | null> {
    // Trials a killed run of this host left RUNNING go back to the queue now, not a grace period later.
    await this.store.requeueOrphans(isGoneWorker);

    const stopOn = (reason: string) => () => this.stop(reason);
    const onSigint = stopOn('SIGINT');
    const onSigterm = stopOn('SIGTERM');
    const onAbort = stopOn('aborted');
    if (handleSignals) {
      process.once('SIGINT', onSigint);
      process.once('SIGTERM', onSigterm);
    }
    if (signal?.aborted) this.stop('aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
    const beat = setInterval(() => void this.beat(), this.timing.heartbeatMs);
    let failure: unknown = null;
    try {
      await this.loop();
    } catch (err) {
      failure = err;
      this.stopReason ??= 'error';
    } finally {
      clearInterval(beat);
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
      signal?.removeEventListener('abort', onAbort);
      await this.executor.shutdown();
      await Promise.allSettled([...this.running.values()].map((r) => r.done));
    }
    if (failure) throw failure;
    return this.stopReason;
  }

  private stop(reason: string): void {
    this.stopReason ??= reason;
    // Killing the workers now, not after the loop notices, is what makes Ctrl-C feel immediate.
    void this.executor.shutdown();
    this.wakeUp();
  }

  /** Heartbeats for this worker's trials, then the stale-trial check for everyone's. */
  private async beat(): Promise<void> {
    try {
      await this.store.heartbeat([...this.running.keys()]);
      await this.failStaleTrials();
    } catch (err) {
      this.heartbeatError = err;
      this.wakeUp();
    }
  }

  private async failStaleTrials(): Promise<void> {
    // Right after the database came back, everyone's heartbeats look old: give the other workers a grace period
    // to reconnect before judging their trials.
    if (Date.now() - this.store.lastReconnect < this.timing.graceSeconds * 1000) return;
    for (const stale of await this.store.failStaleTrials(this.timing.graceSeconds, MAX_RETRY)) {
      this.emit('notice', `trial ${stale.failed} failed: its worker sent no heartbeat for ${this.timing.graceSeconds} s; ` +
        (stale.retry === null ? 'it was a retry already, so it is not retried again' : `retried as trial ${stale.retry} with the same parameters`));
      this.wakeUp();
    }
  }

  private async loop(): Promise<void> {
    const pollMs = Math.min(this.timing.heartbeatMs, 1000);
    for (;;) {
      if (this.heartbeatError) throw this.heartbeatError;
      while (this.stopReason === null && this.running.size < this.executor.capacity) {
        const next = await this.claimNextTrial();
        if (!next) break;
        const done = this.runTrial(next).finally(() => {
          this.running.delete(next.dbId);
          this.pruner.forget(next.dbId);
        });
        this.running.set(next.dbId, { trial: next, done });
      }
      if (this.stopReason !== null) {
        // Each running trial puts itself back (runTrial) once the executor has stopped it.
        await Promise.allSettled([...this.running.values()].map((r) => r.done));
        return;
      }
      if (this.running.size === 0) {
        // Nothing to claim: done, unless another worker's trial is still running (it may go stale and be retried).
        const { running, waiting } = await this.store.counts();
        if (running === 0 && waiting === 0) return;
        if (waiting === 0) await this.failStaleTrials();
      }
      const woken = new Promise<void>((r) => (this.wakeUp = r));
      const idle = this.running.size < this.executor.capacity;
      const timer = idle ? new Promise<void>((r) => setTimeout(r, pollMs)) : null;
      await Promise.race([...[...this.running.values()].map((r) => r.done), woken, ...(timer ? [timer] : [])]);
    }
  }

  /** The next trial to run, already RUNNING in the store: WAITING trials first (enqueued, put back, retries), then new ones. */
  private async claimNextTrial(): Promise<ClaimedTrial | null> {
    const context = { worker: this.worker, space: this.config.space, runDirFor: (id: number) => this.runDirFor(id), claimedBy: this.timing.claimedBy };
    const waiting = await this.store.claimWaiting({
      ...context,
      completeParams: (given, trialId) => this.completeParams(given, trialId),
    });
    if (waiting) return waiting;
    return this.store.createTrial({ ...context, suggest: (history, trialId) => this.strategy.suggest(history, trialId) });
  }

  /** Values given from outside (enqueue_trial) checked against the space; the parameters they leave out are sampled. */
  private completeParams(given: Record<string, unknown>, trialId: number): Params {
    const sampled = sampleSpace(this.config.space, this.config.seed, trialId);
    const params: Params = {};
    for (const [name, spec] of Object.entries(this.config.space)) {
      params[name] = name in given ? checkAgainstSpec(spec, given[name], name) : sampled[name];
    }
    const unknown = Object.keys(given).filter((n) => !(n in this.config.space));
    if (unknown.length > 0) throw new RegraftError(`parameter '${unknown[0]}' is not in the study's search space (${Object.keys(this.config.space).join(', ')})`);
    return params;
  }

  private runDirFor(trialId: number): string {
    return join(this.runsDir, `trial-${String(trialId).padStart(4, '0')}`);
  }

  private async runTrial(trial: ClaimedTrial): Promise<void> {
    const started = new Date().toISOString();
    try {
      // A rerun starts from scratch: whatever the interrupted attempt left behind is not this attempt's output.
      if (trial.attempt > 1) rmSync(trial.runDir, { recursive: true, force: true });
      mkdirSync(trial.runDir, { recursive: true });
    } catch (err) {
      const error = `cannot prepare run folder ${trial.runDir}: ${describeError(err)}`;
      await this.finish(trial, { state: 'FAIL', objective: null, metrics: {}, error }, started, []);
      return;
    }
    this.emit('trialStart', { trialId: trial.id, params: trial.params, attempt: trial.attempt, runDir: trial.runDir });

    let lastMetrics: Metrics = {};
    let pruned = false;
    const epochs: { epoch: number; metrics: Metrics }[] = [];
    const intermediateMetric = this.config.pruner?.metric ?? this.config.objective.metric;
    const seed = Math.floor(trialRng(this.config.seed, trial.id, STREAM.trialSeed).next() * 2 ** 31);
    const outcome = await this.executor.run(
      { trialId: trial.id, params: trial.params, runDir: trial.runDir, seed },
      {
        onEpoch: async (epoch, metrics) => {
          if (this.stopReason !== null) return 'stop';
          const value = metrics[intermediateMetric];
          await this.store.recordEpoch(trial.dbId, epoch, metrics, typeof value === 'number' ? value : null);
          const decision = await this.pruner.report(trial.dbId, epoch, metrics);
          if (decision === 'stop') pruned = true;
          lastMetrics = { ...lastMetrics, ...metrics };
          epochs.push({ epoch, metrics });
          this.emit('trialEpoch', { trialId: trial.id, epoch, metrics, decision });
          return decision;
        },
      },
    );
    if (outcome.kind === 'interrupted' || (this.stopReason !== null && outcome.kind !== 'returned')) {
      await this.store.putBack([trial.dbId], this.stopReason ?? 'interrupted');
      return;
    }
    await this.finish(trial, this.resultOf(outcome, lastMetrics, pruned), started, epochs);
  }

  private async finish(trial: ClaimedTrial, result: TrialResult, started: string, epochs: TrialRecord['epochs']): Promise<void> {
    const recorded = await this.store.finishTrial(trial.dbId, result);
    if (!recorded) {
      this.emit('notice', `trial ${trial.id} finished after another worker had failed it for a missed heartbeat; its retry stands in for it, this result is dropped`);
      return;
    }
    const status = result.state === 'COMPLETE' ? 'complete' : result.state === 'PRUNED' ? 'pruned' : 'failed';
    this.emit('trialFinish', {
      id: trial.id, params: trial.params, status, objective: result.state === 'FAIL' ? null : result.objective, metrics: result.metrics,
      error: result.error ?? null, note: null, runDir: trial.runDir, attempts: trial.attempt, started, finished: new Date().toISOString(), epochs,
    });
  }

  private resultOf(outcome: Exclude<TrialOutcome, { kind: 'interrupted' }>, lastMetrics: Metrics, pruned: boolean): TrialResult {
    const metric = this.config.objective.metric;
    if (outcome.kind === 'failed') return { state: 'FAIL', objective: null, metrics: lastMetrics, error: outcome.error };
    const returned = outcome.metrics as unknown;
    if (typeof returned !== 'object' || returned === null || Array.isArray(returned)) {
      return { state: 'FAIL', objective: null, metrics: lastMetrics, error: `the trial returned ${JSON.stringify(returned)} instead of a metrics object` };
    }
    const metrics = { ...lastMetrics, ...(returned as Metrics) };
    const objective = metrics[metric];
    if (pruned) return { state: 'PRUNED', objective: typeof objective === 'number' ? objective : null, metrics };
    if (typeof objective !== 'number' || !Number.isFinite(objective)) {
      const error = typeof objective === 'number'
        ? `objective metric '${metric}' is ${objective}`
        : `the trial's metrics have no objective metric '${metric}' (got: ${Object.keys(metrics).join(', ') || 'none'})`;
      return { state: 'FAIL', objective: null, metrics, error };
    }
    return { state: 'COMPLETE', objective, metrics };
  }
}
