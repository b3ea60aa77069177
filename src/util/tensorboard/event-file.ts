/**
 * An event file as TensorBoard reads it: `events.out.tfevents.<secs>.<host>.<pid>.<n>` in a run's folder, a
 * sequence of TFRecord-framed Event protobufs starting with the file version. Every record is handed to the
 * operating system in one write as it is made (the file opened for it and closed after), so a crash loses at most the record being written, which
 * TensorBoard's reader then skips as truncated.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describeError, RegraftError } from '../../errors.js';
import { encodeEvent, type SummaryValue } from './event-proto.js';
import {
  experimentContent,
  HPARAMS_PLUGIN_NAME,
  HPARAMS_TAGS,
  sessionEndContent,
  sessionStartContent,
  type ExperimentSpec,
  type SessionEndSpec,
  type SessionStartSpec,
} from './hparams.js';
import { frameRecord } from './tfrecord.js';
import { fileSystemError } from '../fs-errors.js';

export const FILE_VERSION = 'brain.Event:2';

/** The <n> of file names: files opened by one process at the same second stay distinct, as TensorBoard's own. */
let filesOpened = 0;

export interface EventFileOptions {
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
  hostname?: string;
  pid?: number;
}

/** `events.out.tfevents.<secs, 10 digits>.<host>.<pid>.<n>`, as TensorBoard's writer names its files. */
export function eventFileName(secs: number, host: string, pid: number, n: number): string {
  return `events.out.tfevents.${String(Math.floor(secs)).padStart(10, '0')}.${host}.${pid}.${n}`;
}

/** Whether TensorBoard reads a file of this name as an event file: its loader takes any name containing "tfevents". */
export function isEventFileName(name: string): boolean {
  return name.includes('tfevents');
}

function checkStep(step: number): void {
  if (!Number.isSafeInteger(step) || step < 0) throw new RegraftError(`TensorBoard step ${step} must be a whole number >= 0`);
}

export class EventFileWriter {
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly now: () => number,
  ) {}

  /** Creates `dir` if needed and a new event file in it, whose first record is the file version. */
  static create(dir: string, opts: EventFileOptions = {}): EventFileWriter {
    const now = opts.now ?? Date.now;
    const name = eventFileName(now() / 1000, opts.hostname ?? hostname(), opts.pid ?? process.pid, filesOpened++);
    const path = join(dir, name);
    try {
      mkdirSync(dir, { recursive: true });
      closeSync(openSync(path, 'wx'));
    } catch (err) {
      // A full disk, a read-only or unwritable folder: said as every other file of a run says it.
      throw fileSystemError(err, path, 'create');
    }
    const writer = new EventFileWriter(path, now);
    writer.writeEvent({ step: 0, fileVersion: FILE_VERSION });
    return writer;
  }

  /** One event holding a scalar per tag (e.g. `train/loss`, `train/lr`), at `step`. */
  writeScalars(step: number, scalars: Readonly<Record<string, number>>, wallTimeSecs?: number): void {
    checkStep(step);
    const values: SummaryValue[] = Object.entries(scalars).map(([tag, value]) => {
      if (!tag) throw new RegraftError('a TensorBoard scalar needs a tag');
      if (typeof value !== 'number') throw new RegraftError(`TensorBoard scalar '${tag}' is ${typeof value}, not a number`);
      return { tag, scalar: value };
    });
    if (values.length > 0) this.writeEvent({ step, summary: values, wallTimeSecs });
  }

  /** The study's HParams experiment: its hyperparameters and metrics (in the study's own run). */
  writeHParamsExperiment(spec: ExperimentSpec): void {
    this.writePlugin(HPARAMS_TAGS.experiment, experimentContent(spec));
  }

  /** A trial's hyperparameter values (in the trial's run, beside its metrics). */
  writeSessionStart(spec: SessionStartSpec): void {
    this.writePlugin(HPARAMS_TAGS.sessionStart, sessionStartContent(spec));
  }

  /** How a trial ended. */
  writeSessionEnd(spec: SessionEndSpec): void {
    this.writePlugin(HPARAMS_TAGS.sessionEnd, sessionEndContent(spec));
  }

  close(): void {
    this.closed = true;
  }

  private writePlugin(tag: string, content: Uint8Array): void {
    this.writeEvent({ step: 0, summary: [{ tag, plugin: { name: HPARAMS_PLUGIN_NAME, content } }] });
  }

  private writeEvent(event: { step: number; fileVersion?: string; summary?: SummaryValue[]; wallTimeSecs?: number }): void {
    if (this.closed) throw new RegraftError(`the TensorBoard event file ${this.path} is closed; open a new writer`);
    const record = frameRecord(encodeEvent({ wallTime: event.wallTimeSecs ?? this.now() / 1000, step: event.step, fileVersion: event.fileVersion, summary: event.summary }));
    // Opened for each record and closed at once: a run holds no file open for writing between steps (a file system
    // can then be remounted read-only under it, and a crash leaves nothing buffered).
    let fd: number | undefined;
    try {
      fd = openSync(this.path, 'a');
      // The whole record goes to the operating system now (one write, unless the OS takes it in parts), so the
      // file holds at most one partial record: the one a crash interrupts.
      let written = 0;
      while (written < record.length) written += writeSync(fd, record, written);
      closeSync(fd);
      fd = undefined;
    } catch (err) {
      if (fd !== undefined) closeSync(fd);
      const known = fileSystemError(err, this.path, 'write');
      throw known instanceof RegraftError ? known : new RegraftError(`cannot write to the TensorBoard event file ${this.path}: ${describeError(err)}`);
    }
  }
}
