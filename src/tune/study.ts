/**
 * The study driver: claims trials from the study store, hands them to an executor, relays per-epoch reports to the
 * pruner, and records everything in the store as it happens. The store is the single source of truth, shared by every
 * worker on every host: a killed worker loses nothing but the trials it was running (re-queued at once by a resume on
 * the same host, or failed by heartbeat and retried once by any other worker), and the strategy and ASHA see the
 * trials of every worker.
 *
 * One driver is one "worker" in the store's sense; it runs up to `parallel` trials at once in its executor.
 */
import { EventEmitter } from 'node:events';
import { mkdirSync, rmSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { RegraftError, describeError } from '../errors.js';
import { parseStudyConfig, type StudyConfig } from './config.js';
import { InlineExecutor, type Executor, type TrialOutcome } from './executor.js';
import { ProcessPoolExecutor } from './process-pool.js';
import { summarize, snapshotOf, unknownStudy, type StudySummary } from './snapshot.js';
import { sampleSpace } from './strategies/random.js';
import { createStrategy } from './strategies/index.js';
import { STREAM, trialRng, type Strategy } from './strategies/strategy.js';
import { checkAgainstSpec } from './store/distributions.js';
import { chooseStudyName, describeTarget, listStudies, openWritableDriver, storageTarget, type StorageTarget } from './store/open-store.js';
import { resilientStore, type StoreTiming } from './store/resilient-store.js';
import { openSqlStudy } from './store/sql-study-store.js';
import type { ClaimedTrial, StudyStore, TrialResult } from './store/study-store.js';
import { StudyPruner } from './study-pruner.js';
import type { EpochDecision, Metrics, Params, TrialFunction, TrialRecord } from './types.js';
import { currentWorker, isGoneWorker, shortWorker } from './worker-identity.js';

export interface TuneEventHandlers {
  trialStart(e: { trialId: number; params: Params; attempt: number; runDir: string }): void;
  trialEpoch(e: { trialId: number; epoch: number; metrics: Metrics; decision: EpochDecision }): void;
  trialFinish(trial: TrialRecord): void;
  studyFinish(summary: StudySummary): void;
  /** One-line news a user should see: the database lost and back, a trial failed for a missed heartbeat. */
  notice(line: string): void;
}

export interface TuneOptions {
  /** A parsed config (loadStudyConfig / parseStudyConfig) or a raw object in config form. Optional when the study exists. */
  config?: StudyConfig | unknown;
  /** A JS module exporting runTrial, run in worker processes (the config's `parallel` of them). */
  trialModule?: string;
  /** A trial function run in this process, one trial at a time. */
  trialFunction?: TrialFunction;
  /** Any executor, instead of the two above; or a function making one from the study's config and train settings (what a worker that joins a study by name needs). */
  executor?: Executor | ((study: StudyForExecutor) => Executor);
  /** The study's SQLite file (`--study FILE.db`). */
  studyPath?: string;
  /** Or a storage URL: postgresql://user:password@host:port/db, sqlite:///FILE.db (`--storage URL`). */
  storage?: string;
  /** The study inside the storage; default: the config's name (or, in a study file, the file's only study). */
  studyName?: string;
  /** Continue the study instead of refusing to touch an existing one. */
  resume?: boolean;
  /** Create the study or join it if it exists (what `--storage` and `tune worker` do); implies resume. */
  join?: boolean;
  /** Settings stored with the study and checked on every join (the CLI's `train:`). */
  train?: unknown;
  /** Parent folder of the trials' run folders; default: next to the study file, `<name>-runs` (`./<study>-runs` for a URL). */
  runsDir?: string;
  /** Callbacks, or an EventEmitter that gets the same names as events. */
  events?: Partial<TuneEventHandlers> | EventEmitter;
  /** Aborting stops the study like Ctrl-C does. */
  signal?: AbortSignal;
  /** Stop cleanly on SIGINT and SIGTERM (for the CLI): no new trials, workers killed, running trials put back. */
  handleSignals?: boolean;
  /** Seconds between heartbeats of running trials (default 10). */
  heartbeatSeconds?: number;
  /** A RUNNING trial without a heartbeat for this long is failed and retried once (default 60; Optuna's grace_period). */
  gracePeriodSeconds?: number;
  /** How long to ride out a lost database before giving up (default 600 s). */
  maxOutageSeconds?: number;
  /** Told the duration of every store call (the benchmark measures the store's overhead per trial with it). */
  storeTiming?: StoreTiming;
}

const DEFAULT_HEARTBEAT_SECONDS = 10;
const DEFAULT_GRACE_SECONDS = 60;
/** Retries of a trial that went stale (Optuna's RetryFailedTrialCallback max_retry). */
const MAX_RETRY = 1;

/** Runs (or resumes, or joins) a study until its trial budget is spent, and returns its summary. */
export async function tune(opts: TuneOptions): Promise<StudySummary> {
  // Parsed before the storage is opened, so a bad config leaves nothing behind.
  const given = opts.config === undefined ? null : parseStudyConfig(opts.config);
  const target = storageTarget({ study: opts.studyPath, storage: opts.storage });
  const emit = emitterFor(opts.events);
  const { store, config, train } = await openStudyForWork(target, opts, given);
  const resilient = resilientStore(store, {
    maxOutageSeconds: opts.maxOutageSeconds ?? 600,
    notice: (line) => emit('notice', line),
    howToContinue: `regraft tune worker --storage URL --study-name ${store.name}`,
    timing: opts.storeTiming,
  });
  try {
    const runsDir = opts.runsDir ?? defaultRunsDir(target, store.name);
    const driver = new StudyDriver(resilient, config, createExecutor(opts, { config, train, runsDir, name: store.name }), runsDir, emit, {
      heartbeatMs: (opts.heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS) * 1000,
      graceSeconds: opts.gracePeriodSeconds ?? DEFAULT_GRACE_SECONDS,
      claimedBy: opts.resume ? 'on resume' : `by worker ${shortWorker(currentWorker())}`,
    });
    const interrupted = await driver.run(opts.signal, opts.handleSignals ?? false);
    const info = await resilient.info();
    const trials = (await resilient.trials()).map((t) => t.record);
    const summary = summarize(snapshotOf(info, trials, store.where), target.kind === 'sqlite' ? target.path : describeTarget(target), interrupted);
    emit('studyFinish', summary);
    return summary;
  } finally {
    await resilient.close();
  }
}

function defaultRunsDir(target: StorageTarget, studyName: string): string {
  if (target.kind === 'sqlite') return join(dirname(target.path), `${basename(target.path, extname(target.path))}-runs`);
  return resolve(`${studyName.replace(/[^\w.-]+/g, '_')}-runs`);
}

/** Keys that define what a study searches; a resume may change `trials` and `parallel`, nothing else. */
const IDENTITY_KEYS = ['space', 'objective', 'strategy', 'seed', 'pruner'] as const;

async function openStudyForWork(target: StorageTarget, opts: TuneOptions, given: StudyConfig | null): Promise<{ store: StudyStore; config: StudyConfig; train: unknown }> {
  const where = describeTarget(target);
  const driver = await openWritableDriver(target);
  try {
    const names = await listStudies(driver);
    const name = target.kind === 'sqlite' && opts.storage === undefined
      ? chooseStudyName(names, { requested: opts.studyName, fallback: given?.name, where })
      : opts.studyName ?? given?.name ?? null;
    if (name === null) throw new RegraftError(`${where} is new: give a tuning config to start a study`);
    const exists = names.includes(name);
    if (!exists) {
      if (!given) throw names.length > 0 ? unknownStudy(name, where, names) : new RegraftError(`${where} holds no study '${name}': give a tuning config to start it`);
      const store = await openSqlStudy(driver, name, { direction: given.objective.mode, config: given, train: opts.train });
      if (!store) throw new RegraftError(`${where}: could not create study '${name}'`);
      // Another worker may have created it a moment earlier, with its own config: check as for a join.
      return { store, ...(await reconcileConfig(store, opts, given, where)) };
    }
    if (!opts.resume && !opts.join) {
      const store = await openSqlStudy(driver, name);
      const count = store ? (await store.trials()).length : 0;
      throw new RegraftError(
        `${target.kind === 'sqlite' ? `study file ${target.path}` : where} already holds study '${name}' (${count} trials); ` +
          `resume it (--resume) or choose another study path`,
      );
    }
    const store = (await openSqlStudy(driver, name)) as StudyStore;
    return { store, ...(await reconcileConfig(store, opts, given, where)) };
  } catch (err) {
    await driver.close();
    throw err;
  }
}

/**
 * The config to run with: the stored one, checked against the given one (which may raise `trials` and change
 * `parallel`), or the given one adopted by a study Optuna created. Train settings must match the stored ones.
 */
async function reconcileConfig(store: StudyStore, opts: TuneOptions, given: StudyConfig | null, where: string): Promise<{ config: StudyConfig; train: unknown }> {
  const info = await store.info();
  const train = info.train ?? opts.train ?? null;
  const label = `study '${info.name}' in ${where}`;
  if (opts.train !== undefined && info.train !== null && JSON.stringify(info.train) !== JSON.stringify(opts.train)) {
    throw new RegraftError(`'train:' differs from the one ${label} started with; run with the same settings, or start another study (--study-name)`);
  }
  if (info.config === null) {
    // A study made by Optuna (optuna.create_study, enqueue_trial): regraft adopts the given config for it.
    if (!given) throw new RegraftError(`${label} was made by Optuna and has no regraft config; give one: regraft tune CONFIG --storage URL --study-name ${info.name}`);
    if (info.direction !== null && info.direction !== given.objective.mode) {
      throw new RegraftError(`${label} ${info.direction === 'max' ? 'maximizes' : 'minimizes'}, but the config's objective mode is '${given.objective.mode}'; make them agree`);
    }
    await store.setStudyAttributes({ config: given, train: opts.train, direction: given.objective.mode });
    return { config: given, train };
  }
  const previous = parseStudyConfig(info.config, { source: label });
  if (!given) return { config: previous, train };
  for (const key of IDENTITY_KEYS) {
    if (JSON.stringify(previous[key]) !== JSON.stringify(given[key])) {
      throw new RegraftError(
        `cannot resume ${label}: its '${key}' differs from the given config; ` +
          `resume without a config, restore the original '${key}', or start a new study`,
      );
    }
  }
  const merged: StudyConfig = { ...previous, trials: given.trials, parallel: given.parallel };
  if (merged.trials !== previous.trials || merged.parallel !== previous.parallel) await store.setStudyAttributes({ config: merged });
  if (opts.train !== undefined && info.train === null) await store.setStudyAttributes({ train: opts.train });
  return { config: merged, train };
}

/** What an executor factory is told about the study it runs trials for. */
export interface StudyForExecutor {
  config: StudyConfig;
  /** The settings stored with the study (the CLI's `train:`). */
  train: unknown;
  /** The parent folder of this worker's trial folders. */
  runsDir: string;
  name: string;
}

function createExecutor(opts: TuneOptions, study: StudyForExecutor): Executor {
  const { config } = study;
  const sources = [opts.executor, opts.trialModule, opts.trialFunction].filter((s) => s !== undefined).length;
  if (sources !== 1) throw new RegraftError(`tune needs exactly one of trialModule, trialFunction or executor (got ${sources})`);
  if (typeof opts.executor === 'function') return opts.executor(study);
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

interface DriverTiming {
  heartbeatMs: number;
  graceSeconds: number;
  claimedBy: string;
}

class StudyDriver {
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
