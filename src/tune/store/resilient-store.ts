/**
 * A study store that rides out a database restart: a call that fails because the connection was lost is retried
 * every second until the database answers again, for at most `maxOutageSeconds`. The worker says so in one line when
 * it loses the database and in one when it is back; its trials keep running meanwhile. Past the limit, the call
 * fails with a one-line error saying how to continue, and the worker exits.
 *
 * A retried transaction is safe: a failed one was rolled back. (A commit whose acknowledgement was lost would be
 * repeated; every write here either checks the trial's state first or overwrites the same value.)
 */
import { RegraftError, describeError } from '../../errors.js';
import { isConnectionLost } from './sql-driver.js';
import type { StudyStore } from './study-store.js';

export interface ResilienceOptions {
  maxOutageSeconds: number;
  retrySeconds?: number;
  notice(line: string): void;
  /** What to run to continue after giving up, for the final message. */
  howToContinue: string;
  /** Called after every store call with its duration (for the benchmark's per-trial overhead). */
  timing?: StoreTiming;
}

export type StoreTiming = (method: string, ms: number, args: readonly unknown[], result: unknown) => void;

const AFTERSHOCK_MS = 5000;

export function resilientStore(store: StudyStore, options: ResilienceOptions): StudyStore & { readonly lastReconnect: number } {
  let outageSince: number | null = null;
  let lastReconnect = 0;
  let announced = false;
  const retryMs = (options.retrySeconds ?? 1) * 1000;

  async function call<T>(run: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        const value = await run();
        if (outageSince !== null) {
          if (announced) options.notice(`the study database is back after ${((Date.now() - outageSince) / 1000).toFixed(1)} s; carrying on`);
          outageSince = null;
          lastReconnect = Date.now();
        }
        return value;
      } catch (err) {
        if (!isConnectionLost(err)) throw err;
        if (outageSince === null) {
          outageSince = Date.now();
          // Right after a restart, connections that were open before it fail once more each: that is the same
          // outage ending, not a new one worth a line.
          announced = Date.now() - lastReconnect > AFTERSHOCK_MS;
          if (announced) options.notice(`lost the study database (${store.where}: ${describeError(err)}); retrying every ${retryMs / 1000} s for up to ${options.maxOutageSeconds} s`);
        } else if (Date.now() - outageSince > options.maxOutageSeconds * 1000) {
          throw new RegraftError(
            `the study database has been unreachable for ${options.maxOutageSeconds} s (${store.where}: ${describeError(err)}); ` +
              `once it is back, continue with: ${options.howToContinue}`,
          );
        }
        await new Promise((r) => setTimeout(r, retryMs));
      }
    }
  }

  const wrapped = {} as Record<string, unknown>;
  for (const key of ['info', 'setStudyAttributes', 'trials', 'requeueOrphans', 'failStaleTrials', 'claimWaiting', 'createTrial', 'heartbeat', 'recordEpoch', 'reachRung', 'finishTrial', 'putBack', 'counts'] as const) {
    const method = (store[key] as (...args: unknown[]) => Promise<unknown>).bind(store);
    wrapped[key] = async (...args: unknown[]) => {
      const t0 = performance.now();
      const result = await call(() => method(...args));
      options.timing?.(key, performance.now() - t0, args, result);
      return result;
    };
  }
  const result = Object.assign(wrapped, { where: store.where, name: store.name, close: () => store.close() });
  Object.defineProperty(result, 'lastReconnect', { get: () => lastReconnect });
  return result as unknown as StudyStore & { readonly lastReconnect: number };
}
