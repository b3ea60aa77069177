/**
 * `tune()`: runs, resumes or joins a study. It settles which study and config to run (open-study.ts), wraps the
 * store so that a database restart is ridden out (store/resilient-store.ts), makes the executor the options ask for,
 * and runs one study driver (study-driver.ts) until the trial budget is spent or the run is stopped; then it reads
 * the study back as its summary.
 */
import type { EventEmitter } from 'node:events';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { RegraftError } from '../errors.js';
import { parseStudyConfig, type StudyConfig } from './config.js';
import { InlineExecutor, type Executor } from './executor.js';
import { openStudyForWork, type StudyRequest } from './open-study.js';
import { ProcessPoolExecutor } from './process-pool.js';
import { summarize, snapshotOf, type StudySummary } from './snapshot.js';
import { describeTarget, storageTarget, type StorageTarget } from './store/open-store.js';
import { resilientStore, type StoreTiming } from './store/resilient-store.js';
import { StudyDriver } from './study-driver.js';
import { emitterFor, type TuneEventHandlers } from './study-events.js';
import type { TrialFunction } from './types.js';
import { currentWorker, shortWorker } from './worker-identity.js';

export interface TuneOptions extends StudyRequest {
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
