/**
 * Ctrl-C (SIGINT) and SIGTERM for a command that writes files as it goes (`regraft train`). The first signal asks
 * the work to stop: it aborts an AbortSignal, aborted with the signal's name, that the work checks at safe points
 * (between batches) and then ends with its own one line. A second signal does not wait: this process's unfinished
 * temp files are removed (every file regraft writes goes through one, so no target is ever half-written), one line
 * says what holds, and the process exits at once with 128 + the signal's number (130, 143), as a shell reports it.
 */
import { removeTempFilesNow } from '../util/atomic-file.js';
import { signalExitCode } from '../training/run-stop.js';
import type { CliIo } from './context.js';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export interface StopSignals {
  /** Aborted with 'SIGINT' or 'SIGTERM' on the first signal. */
  signal: AbortSignal;
  /** Removes the handlers (the command is done). */
  release(): void;
}

/** `whatHolds()` says, at the moment of a second signal, what the files on disk hold (the last checkpoint). */
export function handleStopSignals(io: CliIo, whatHolds: () => string): StopSignals {
  const controller = new AbortController();
  const handlers = STOP_SIGNALS.map((name) => {
    const handler = () => {
      if (!controller.signal.aborted) {
        controller.abort(name);
        return;
      }
      removeTempFilesNow();
      io.err(`regraft: stopped at once by a second ${name}; ${whatHolds()}`);
      process.exit(signalExitCode(name));
    };
    process.on(name, handler);
    return [name, handler] as const;
  });
  return {
    signal: controller.signal,
    release: () => handlers.forEach(([name, handler]) => process.off(name, handler)),
  };
}
