/**
 * How a run that ends before its last epoch says so: where it stopped, which checkpoint holds, and the command that
 * continues it. Used for a stop requested by a signal (Ctrl-C, SIGTERM), for a disk that fills up or turns
 * read-only, and for a run that diverges under --strict; each ends in one line of this form.
 */
import { constants } from 'node:os';
import { join } from 'node:path';
import { RegraftError } from '../errors.js';
import { FileSystemError } from '../util/fs-errors.js';
import { RUN_FILES } from './run-dir.js';

/** Where a run was when it stopped. */
export interface RunPosition {
  runDir: string;
  /** Whether the run directory exists yet (it is written once the data has loaded). */
  created: boolean;
  /** Epochs whose checkpoint is in checkpoints/last.onnx. */
  epochsDone: number;
  epochs: number;
}

/** A run stopped on request: by a signal (exit 128 + its number, as shells report it) or an AbortSignal. */
export class RunInterrupted extends RegraftError {
  constructor(
    message: string,
    /** 'SIGINT', 'SIGTERM', or 'abort' for an AbortSignal without a signal name. */
    readonly reason: string,
  ) {
    super(message, signalExitCode(reason));
    this.name = 'RunInterrupted';
  }
}

/** 130 for SIGINT, 143 for SIGTERM (128 + the signal's number); 1 for anything that is not a signal. */
export function signalExitCode(reason: string): number {
  const number = (constants.signals as Record<string, number | undefined>)[reason];
  return number === undefined ? 1 : 128 + number;
}

/** The signal name an AbortSignal was aborted with (`controller.abort('SIGINT')`), or 'abort'. */
export function stopReason(signal: AbortSignal): string {
  return typeof signal.reason === 'string' ? signal.reason : 'abort';
}

/** `regraft train --resume --out DIR`, with the folder quoted for a shell when it needs to be. */
export function resumeCommand(runDir: string): string {
  const quoted = /^[\w./@%+=:,-]+$/.test(runDir) ? runDir : `'${runDir.replaceAll("'", "'\\''")}'`;
  return `regraft train --resume --out ${quoted}`;
}

/** `runs/x/checkpoints/last.onnx holds epoch 2; continue with: regraft train --resume --out runs/x`, or what holds instead. */
export function checkpointHolds(at: RunPosition): string {
  if (!at.created) return `nothing was written to ${at.runDir}`;
  if (at.epochsDone === 0) return `no epoch had finished, so there is no checkpoint yet; start it again with: ${resumeCommand(at.runDir)}`;
  const finished = at.epochsDone >= at.epochs ? ' (the last one: the run is complete)' : '';
  return `${join(at.runDir, RUN_FILES.last)} holds epoch ${at.epochsDone}${finished}; continue with: ${resumeCommand(at.runDir)}`;
}

/** The one line for a stop requested mid-epoch (`batch` given, 1-based) or between epochs. */
export function interruption(reason: string, at: RunPosition, batch?: { index: number; of: number }): RunInterrupted {
  const by = reason === 'abort' ? 'stopped (aborted)' : `stopped by ${reason}`;
  const where = !at.created
    ? 'before training started'
    : batch !== undefined
      ? `in epoch ${at.epochsDone + 1}/${at.epochs} after batch ${batch.index} of ${batch.of} (that epoch runs again on resume)`
      : at.epochsDone === 0
        ? 'before the first epoch'
        : `after epoch ${at.epochsDone}/${at.epochs}`;
  return new RunInterrupted(`${by} ${where}; ${checkpointHolds(at)}`, reason);
}

/** A file-system failure while the run writes, with the last good checkpoint named. */
export function withCheckpoint(err: unknown, at: RunPosition): unknown {
  if (!(err instanceof FileSystemError)) return err;
  const holds = at.epochsDone === 0 ? 'no checkpoint was written yet' : `the last good checkpoint is ${join(at.runDir, RUN_FILES.last)} (epoch ${at.epochsDone})`;
  return new FileSystemError(`${err.message}; ${holds}${at.created ? `; then continue with: ${resumeCommand(at.runDir)}` : ''}`, err.code, err.path, { cause: err });
}
