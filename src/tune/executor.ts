/**
 * Executors run trials; the study driver decides what to run and records what happens. An executor never throws for
 * a trial's own failure: whatever goes wrong inside a trial comes back as a 'failed' outcome with a one-line reason.
 */
import { describeError } from '../errors.js';
import type { EpochDecision, Metrics, Params, TrialContext, TrialFunction } from './types.js';

export interface TrialJob {
  trialId: number;
  params: Params;
  runDir: string;
  seed: number;
}

export interface TrialHooks {
  /** Called for every epoch the trial reports; the answer goes back to the trial. */
  onEpoch(epoch: number, metrics: Metrics): Promise<EpochDecision> | EpochDecision;
}

export type TrialOutcome =
  | { kind: 'returned'; metrics: Metrics }
  | { kind: 'failed'; error: string }
  /** The executor was shut down while the trial ran. */
  | { kind: 'interrupted' };

export interface Executor {
  /** How many trials may run at once. */
  readonly capacity: number;
  run(job: TrialJob, hooks: TrialHooks): Promise<TrialOutcome>;
  /** Stops running trials (their `run` promises resolve as 'interrupted') and releases resources. */
  shutdown(): Promise<void>;
}

/** Runs trials one at a time in this process: for the API, tests and trial functions that are not in a module. */
export class InlineExecutor implements Executor {
  readonly capacity = 1;
  private shuttingDown = false;

  /** `threads` is what trials see as ctx.threads (0: let the runtime decide). */
  constructor(private readonly trial: TrialFunction, private readonly threads = 0) {}

  async run(job: TrialJob, hooks: TrialHooks): Promise<TrialOutcome> {
    // A function running in this process cannot be killed: after a shutdown it is told to stop at its next epoch.
    const ctx: TrialContext = {
      trialId: job.trialId,
      runDir: job.runDir,
      seed: job.seed,
      threads: this.threads,
      report: async (epoch, metrics) => (this.shuttingDown ? 'stop' : hooks.onEpoch(epoch, metrics)),
    };
    try {
      const metrics = await this.trial(job.params, ctx);
      if (this.shuttingDown) return { kind: 'interrupted' };
      return { kind: 'returned', metrics };
    } catch (err) {
      if (this.shuttingDown) return { kind: 'interrupted' };
      return { kind: 'failed', error: describeError(err) };
    }
  }

  async shutdown(): Promise<void> {
    this.shuttingDown = true;
  }
}
