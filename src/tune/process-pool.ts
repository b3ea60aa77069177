/**
 * Runs each trial in its own forked Node process (dist/tune/worker.js), at most `parallel` at a time.
 *
 * A fresh process per trial, rather than long-lived workers, because a trainer holds native memory and thread
 * pools (onnxruntime) that are only reliably released by exiting, and because a crash then costs one trial only.
 * Forking costs tens of milliseconds, nothing next to a training run. Each worker is told to use one compute
 * thread (OMP_NUM_THREADS=1 and ctx.threads = 1): parallel trials, not threads inside a trial, use the cores.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { RegraftError } from '../errors.js';
import type { Executor, TrialHooks, TrialJob, TrialOutcome } from './executor.js';
import type { ParentMessage, WorkerMessage } from './ipc.js';
import { workerScriptPath } from './package-root.js';

export interface ProcessPoolOptions {
  /** Trials at once; default os.availableParallelism(). */
  parallel?: number;
  /** Compute threads per trial (ctx.threads and the OMP/MKL/OpenBLAS hints); default 1. */
  threadsPerTrial?: number;
  /** Extra environment for workers. */
  env?: NodeJS.ProcessEnv;
  /** Where the trials' stdout and stderr go; default 'inherit'. */
  stdio?: 'inherit' | 'ignore';
}

export class ProcessPoolExecutor implements Executor {
  readonly capacity: number;
  private readonly modulePath: string;
  private readonly workerPath: string;
  private readonly threads: number;
  private readonly children = new Set<ChildProcess>();
  private shuttingDown = false;

  constructor(trialModule: string, private readonly options: ProcessPoolOptions = {}) {
    this.modulePath = resolve(trialModule);
    if (!existsSync(this.modulePath)) {
      throw new RegraftError(`trial module ${this.modulePath} does not exist; pass a JS file that exports runTrial`);
    }
    this.workerPath = workerScriptPath();
    this.capacity = options.parallel ?? availableParallelism();
    if (!Number.isInteger(this.capacity) || this.capacity < 1) {
      throw new RegraftError(`parallel must be a positive integer, got ${this.capacity}`);
    }
    this.threads = options.threadsPerTrial ?? 1;
  }

  run(job: TrialJob, hooks: TrialHooks): Promise<TrialOutcome> {
    if (this.shuttingDown) return Promise.resolve({ kind: 'interrupted' });
    const threads = String(this.threads);
    const stdio = this.options.stdio ?? 'inherit';
    const child = fork(this.workerPath, [], {
      // The parent's flags (a test runner's loaders, inspectors) have no business in a trial.
      execArgv: [],
      serialization: 'advanced',
      stdio: [stdio, stdio, stdio, 'ipc'],
      env: {
        ...process.env,
        ...this.options.env,
        OMP_NUM_THREADS: threads,
        MKL_NUM_THREADS: threads,
        OPENBLAS_NUM_THREADS: threads,
        REGRAFT_TRIAL_THREADS: threads,
      },
    });
    this.children.add(child);

    return new Promise<TrialOutcome>((resolveOutcome) => {
      let outcome: TrialOutcome | null = null;
      // Epoch reports are answered in order; a decision arriving after the child died is simply dropped.
      let replies = Promise.resolve();

      child.on('message', (message: WorkerMessage) => {
        if (message.type === 'epoch') {
          replies = replies.then(async () => {
            let decision = await hooks.onEpoch(message.epoch, message.metrics);
            if (this.shuttingDown) decision = 'stop';
            sendQuietly(child, { type: 'decision', seq: message.seq, decision });
          }).catch((err: unknown) => {
            outcome ??= { kind: 'failed', error: `recording epoch ${message.epoch} failed: ${String(err)}` };
            child.kill('SIGKILL');
          });
        } else if (message.type === 'result') {
          outcome ??= { kind: 'returned', metrics: message.metrics };
        } else if (message.type === 'error') {
          outcome ??= { kind: 'failed', error: message.message };
        }
      });
      child.on('error', (err) => {
        outcome ??= { kind: 'failed', error: `worker process error: ${err.message}` };
        // A process that never started emits no 'exit'.
        if (child.pid === undefined) {
          this.children.delete(child);
          resolveOutcome(outcome);
        }
      });
      // Settle on 'close' (process gone and IPC channel drained), not on the result message or 'exit': a slot is
      // only reused once its process is gone, and no message sent just before exiting is lost.
      child.on('close', (code, signal) => {
        this.children.delete(child);
        void replies.finally(() => {
          if (this.shuttingDown && outcome?.kind !== 'returned') outcome = { kind: 'interrupted' };
          resolveOutcome(outcome ?? {
            kind: 'failed',
            error: `worker exited ${signal ? `on signal ${signal}` : `with code ${code}`} before the trial returned`,
          });
        });
      });

      sendQuietly(child, { type: 'run', job, modulePath: this.modulePath, threads: this.threads });
    });
  }

  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    const exits = [...this.children].map((child) => new Promise<void>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once('exit', () => done());
      child.kill('SIGKILL');
    }));
    await Promise.all(exits);
  }
}

function sendQuietly(child: ChildProcess, message: ParentMessage): void {
  if (child.connected) child.send(message, (err) => void err);
}
