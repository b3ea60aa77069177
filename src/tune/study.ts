/**
 * The study driver: asks the strategy for parameters, hands trials to an executor, relays per-epoch reports to the
 * pruner, and records everything in the study file as it happens. The file is the single source of truth, which is
 * what makes a killed study resumable: finished trials are kept, unfinished ones rerun with the same parameters,
 * and the strategy sees the same history it would have seen without the interruption.
 */
import { EventEmitter } from 'node:events';
import { mkdirSync, rmSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { RegraftError, describeError } from '../errors.js';
import { parseStudyConfig, type StudyConfig } from './config.js';
import { InlineExecutor, type Executor, type TrialOutcome } from './executor.js';
import { ProcessPoolExecutor } from './process-pool.js';
import { createPruner, type Pruner } from './pruner.js';
import { readSnapshot, summarize, type StudySummary } from './snapshot.js';
import { StudyStorage } from './storage.js';
import { createStrategy } from './strategies/index.js';
import { STREAM, trialRng, type Strategy } from './strategies/strategy.js';
import type { EpochDecision, Metrics, Params, TrialFunction, TrialRecord } from './types.js';

export interface TuneEventHandlers {
  trialStart(e: { trialId: number; params: Params; attempt: number; runDir: string }): void;
  trialEpoch(e: { trialId: number; epoch: number; metrics: Metrics; decision: EpochDecision }): void;
  trialFinish(trial: TrialRecord): void;
  studyFinish(summary: StudySummary): void;
}

export interface TuneOptions {
  /** A parsed config (loadStudyConfig / parseStudyConfig) or a raw object in config form. Optional on resume. */
  config?: StudyConfig | unknown;
  /** A JS module exporting runTrial, run in worker processes (the config's `parallel` of them). */
  trialModule?: string;
  /** A trial function run in this process, one trial at a time. */
  trialFunction?: TrialFunction;
  /** Any executor, instead of the two above. */
  executor?: Executor;
  /** The study's SQLite file. */
  studyPath: string;
  /** Continue the study in `studyPath` instead of refusing to touch an existing one. */
  resume?: boolean;
  /** Parent folder of the trials' run folders; default: next to the study file, `<name>-runs`. */
  runsDir?: string;
  /** Callbacks, or an EventEmitter that gets the same names as events. */
  events?: Partial<TuneEventHandlers> | EventEmitter;
  /** Aborting stops the study like Ctrl-C does. */
  signal?: AbortSignal;
  /** Stop cleanly on SIGINT and SIGTERM (for the CLI): no new trials, workers killed, running trials interrupted. */
  handleSignals?: boolean;
}

/** Runs (or resumes) a study to the end and returns its summary. */
export async function tune(opts: TuneOptions): Promise<StudySummary> {
  // Parsed before the study file is opened, so a bad config leaves nothing behind.
  const given = opts.config === undefined ? null : parseStudyConfig(opts.config);
  const storage = StudyStorage.open(opts.studyPath);
  try {
    const config = establishConfig(storage, opts, given);
    const runsDir = opts.runsDir ?? join(dirname(opts.studyPath), `${basename(opts.studyPath, extname(opts.studyPath))}-runs`);
    const driver = new StudyDriver(storage, config, createExecutor(opts, config), runsDir, emitterFor(opts.events));
    const interrupted = await driver.run(opts.signal, opts.handleSignals ?? false);
    const summary = summarize(readSnapshot(storage), opts.studyPath, interrupted);
    emitterFor(opts.events)('studyFinish', summary);
    return summary;
  } finally {
    storage.close();
  }
}

/** Keys that define what a study searches; a resume may change `trials` and `parallel`, nothing else. */
const IDENTITY_KEYS = ['space', 'objective', 'strategy', 'seed', 'pruner'] as const;

function establishConfig(storage: StudyStorage, opts: TuneOptions, given: StudyConfig | null): StudyConfig {
  const stored = storage.getStudy();
  if (!stored) {
    if (!given) throw new RegraftError(`study file ${opts.studyPath} is new: give a tuning config to start a study`);
    storage.createStudy(given.name, given);
    return given;
  }
  if (!opts.resume) {
    throw new RegraftError(
      `study file ${opts.studyPath} already holds study '${stored.name}' (${storage.trialCount()} trials); ` +
        `resume it (--resume) or choose another study path`,
    );
  }
  const previous = parseStudyConfig(stored.config, { source: opts.studyPath });
  if (!given) return previous;
  for (const key of IDENTITY_KEYS) {
    if (JSON.stringify(previous[key]) !== JSON.stringify(given[key])) {
      throw new RegraftError(
        `cannot resume study '${stored.name}' in ${opts.studyPath}: its '${key}' differs from the given config; ` +
          `resume without a config, restore the original '${key}', or start a new study path`,
      );
    }
  }
  const merged: StudyConfig = { ...previous, trials: given.trials, parallel: given.parallel };
  storage.updateConfig(merged);
  return merged;
}

function createExecutor(opts: TuneOptions, config: StudyConfig): Executor {
  const sources = [opts.executor, opts.trialModule, opts.trialFunction].filter((s) => s !== undefined).length;
  if (sources !== 1) throw new RegraftError(`tune needs exactly one of trialModule, trialFunction or executor (got ${sources})`);
  if (opts.executor) return opts.executor;
  if (opts.trialModule) return new ProcessPoolExecutor(opts.trialModule, { parallel: config.parallel });
  return new InlineExecutor(opts.trialFunction as TrialFunction);
}

type Emit = <K extends keyof TuneEventHandlers>(name: K, payload: Parameters<TuneEventHandlers[K]>[0]) => void;

function emitterFor(events: TuneOptions['events']): Emit {
  return (name, payload) => {
    if (!events) return;
    if (events instanceof EventEmitter) events.emit(name, payload);
    else (events[name] as ((p: typeof payload) => void) | undefined)?.(payload);
  };
}

class StudyDriver {
  private readonly pruner: Pruner;
  private readonly strategy: Strategy;
  private stopReason: string | null = null;
  private wakeUp: () => void = () => {};

  constructor(
    private readonly storage: StudyStorage,
    private readonly config: StudyConfig,
    private readonly executor: Executor,
    private readonly runsDir: string,
    private readonly emit: Emit,
  ) {
    this.pruner = createPruner(config.pruner);
    this.strategy = createStrategy(config);
  }

  /** Returns why the study stopped early, or null when it ran out of trials. */
  async run(signal: AbortSignal | undefined, handleSignals: boolean): Promise<string | null> {
    this.storage.requeueUnfinished();
    for (const t of this.storage.trials()) if (t.status !== 'queued') this.pruner.restore(t.id, t.epochs);

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
    try {
      await this.loop();
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
      signal?.removeEventListener('abort', onAbort);
      await this.executor.shutdown();
    }
    if (this.stopReason) this.storage.markInterrupted(this.stopReason);
    return this.stopReason;
  }

  private stop(reason: string): void {
    this.stopReason ??= reason;
    // Killing the workers now, not after the loop notices, is what makes Ctrl-C feel immediate.
    void this.executor.shutdown();
    this.wakeUp();
  }

  private async loop(): Promise<void> {
    const running = new Map<number, Promise<void>>();
    for (;;) {
      while (this.stopReason === null && running.size < this.executor.capacity) {
        const next = this.claimNextTrial();
        if (!next) break;
        running.set(next.id, this.runTrial(next).finally(() => running.delete(next.id)));
      }
      if (running.size === 0) return;
      const woken = new Promise<void>((resolve) => (this.wakeUp = resolve));
      await Promise.race([...running.values(), woken]);
      if (this.stopReason !== null) {
        await Promise.all(running.values());
        return;
      }
    }
  }

  /** The next trial to run, already marked running in the study file: re-queued trials first, then new ones. */
  private claimNextTrial(): { id: number; params: Params; runDir: string; attempt: number } | null {
    const trials = this.storage.trials();
    for (const t of trials) {
      if (t.status === 'queued' && this.storage.startQueuedTrial(t.id)) {
        this.pruner.forget(t.id);
        return { id: t.id, params: t.params, runDir: t.runDir, attempt: t.attempts + 1 };
      }
    }
    if (trials.length >= this.config.trials) return null;
    const params = this.strategy.suggest(trials, trials.length + 1);
    if (!params) return null;
    const id = this.storage.startNewTrial(this.config.trials, params, (n) => this.runDirFor(n));
    if (id === null) return null;
    return { id, params, runDir: this.runDirFor(id), attempt: 1 };
  }

  private runDirFor(trialId: number): string {
    return join(this.runsDir, `trial-${String(trialId).padStart(4, '0')}`);
  }

  private async runTrial(trial: { id: number; params: Params; runDir: string; attempt: number }): Promise<void> {
    try {
      // A rerun starts from scratch: whatever the interrupted attempt left behind is not this attempt's output.
      if (trial.attempt > 1) rmSync(trial.runDir, { recursive: true, force: true });
      mkdirSync(trial.runDir, { recursive: true });
    } catch (err) {
      const error = `cannot prepare run folder ${trial.runDir}: ${describeError(err)}`;
      this.storage.finishTrial(trial.id, { status: 'failed', objective: null, metrics: {}, error });
      return;
    }
    this.emit('trialStart', { trialId: trial.id, params: trial.params, attempt: trial.attempt, runDir: trial.runDir });

    let lastMetrics: Metrics = {};
    let pruned = false;
    const seed = Math.floor(trialRng(this.config.seed, trial.id, STREAM.trialSeed).next() * 2 ** 31);
    const outcome = await this.executor.run(
      { trialId: trial.id, params: trial.params, runDir: trial.runDir, seed },
      {
        onEpoch: (epoch, metrics) => {
          if (this.stopReason !== null) return 'stop';
          this.storage.recordEpoch(trial.id, epoch, metrics);
          const decision = this.pruner.report(trial.id, epoch, metrics);
          if (decision === 'stop') pruned = true;
          lastMetrics = { ...lastMetrics, ...metrics };
          this.emit('trialEpoch', { trialId: trial.id, epoch, metrics, decision });
          return decision;
        },
      },
    );
    if (outcome.kind === 'interrupted' || (this.stopReason !== null && outcome.kind !== 'returned')) return;
    this.record(trial.id, outcome, lastMetrics, pruned);
    const record = this.storage.trials().find((t) => t.id === trial.id);
    if (record) this.emit('trialFinish', record);
  }

  private record(id: number, outcome: Exclude<TrialOutcome, { kind: 'interrupted' }>, lastMetrics: Metrics, pruned: boolean): void {
    const metric = this.config.objective.metric;
    if (outcome.kind === 'failed') {
      this.storage.finishTrial(id, { status: 'failed', objective: null, metrics: lastMetrics, error: outcome.error });
      return;
    }
    const returned = outcome.metrics as unknown;
    if (typeof returned !== 'object' || returned === null || Array.isArray(returned)) {
      this.storage.finishTrial(id, {
        status: 'failed', objective: null, metrics: lastMetrics,
        error: `the trial returned ${JSON.stringify(returned)} instead of a metrics object`,
      });
      return;
    }
    const metrics = { ...lastMetrics, ...(returned as Metrics) };
    const objective = metrics[metric];
    if (pruned) {
      this.storage.finishTrial(id, { status: 'pruned', objective: typeof objective === 'number' ? objective : null, metrics });
    } else if (typeof objective !== 'number' || !Number.isFinite(objective)) {
      const error = typeof objective === 'number'
        ? `objective metric '${metric}' is ${objective}`
        : `the trial's metrics have no objective metric '${metric}' (got: ${Object.keys(metrics).join(', ') || 'none'})`;
      this.storage.finishTrial(id, { status: 'failed', objective: null, metrics, error });
    } else {
      this.storage.finishTrial(id, { status: 'complete', objective, metrics });
    }
  }
}
