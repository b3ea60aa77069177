/**
 * A run's TensorBoard event files (RUN/tb/): per optimizer step the training loss and learning rate, per epoch
 * every metric of metrics.jsonl under the tag TensorBoard users look for. Steps count optimizer updates from 1 (with
 * `--accumulate N`, one step is one update of N micro-batches) and go on across `--resume`: a resumed run first cuts
 * its files back to the last checkpointed step, then writes a new file from the next step on, so every step is in
 * the files once.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EventFileWriter, isEventFileName, truncateEventFile, type HParamValue, type SessionStatus } from '../util/tensorboard/index.js';

/** The run's event-file folder, inside the run directory. */
export const TENSORBOARD_DIR = 'tb';

/** What every optimizer step writes: the update's mean training loss and the rate it ran at. */
export const STEP_TAGS = { loss: 'train/loss', lr: 'train/lr' } as const;

/**
 * The one table from metrics.jsonl names to TensorBoard tags. An exact name wins (null: not written per epoch);
 * otherwise the name's prefix says where it goes, so a metric added later (`val_perplexity`) gets its tag
 * (`val/perplexity`) without an entry of its own; a name with neither goes under `epoch/`.
 */
const METRIC_TAGS = {
  exact: {
    /** The x axes, not curves. */
    epoch: null,
    step: null,
    /** Written per step, as train/lr. */
    lr: null,
    /** The mean over the epoch; train/loss is per step. */
    train_loss: 'train/epoch_loss',
    samples_per_sec: 'perf/samples_per_sec',
    seconds: 'perf/epoch_seconds',
  } as Record<string, string | null>,
  prefixes: { train_: 'train/', val_: 'val/', test_: 'test/' } as Record<string, string>,
  otherwise: 'epoch/',
};

/** The TensorBoard tag of an epoch metric (`val_accuracy` -> `val/accuracy`), or null when it is not written per epoch. */
export function metricTag(name: string): string | null {
  if (Object.hasOwn(METRIC_TAGS.exact, name)) return METRIC_TAGS.exact[name];
  for (const [prefix, folder] of Object.entries(METRIC_TAGS.prefixes)) {
    if (name.startsWith(prefix) && name.length > prefix.length) return folder + name.slice(prefix.length);
  }
  return METRIC_TAGS.otherwise + name;
}

/** The scalars of one epoch's metrics, by tag: every finite number whose name has a tag. */
export function epochScalars(metrics: object): Record<string, number> {
  const scalars: Record<string, number> = {};
  for (const [name, value] of Object.entries(metrics)) {
    const tag = metricTag(name);
    if (tag !== null && typeof value === 'number' && Number.isFinite(value)) scalars[tag] = value;
  }
  return scalars;
}

export class TrainingEvents {
  private constructor(private readonly writer: EventFileWriter) {}

  /**
   * Opens a new event file in `runDir/tb/`. `lastStep` (a resumed run: the last step of its checkpoint) first cuts
   * the files already there back to that step.
   */
  static open(runDir: string, lastStep?: number): TrainingEvents {
    const dir = join(runDir, TENSORBOARD_DIR);
    if (lastStep !== undefined && existsSync(dir)) {
      for (const name of readdirSync(dir).filter(isEventFileName).sort()) truncateEventFile(join(dir, name), lastStep);
    }
    return new TrainingEvents(EventFileWriter.create(dir));
  }

  get path(): string {
    return this.writer.path;
  }

  step(step: number, loss: number, lr: number): void {
    this.writer.writeScalars(step, { [STEP_TAGS.loss]: loss, [STEP_TAGS.lr]: lr });
  }

  /** The epoch's metrics, at the step that ended it (validation on the training curve's step axis). */
  epoch(step: number, metrics: object): void {
    this.writer.writeScalars(step, epochScalars(metrics));
  }

  /** The run as one session of the HParams tab: its hyperparameter values (a tuning trial's searched ones). */
  sessionStart(session: { hparams: Readonly<Record<string, HParamValue>>; groupName: string }): void {
    this.writer.writeSessionStart({ hparams: session.hparams, groupName: session.groupName, startTimeSecs: Date.now() / 1000 });
  }

  sessionEnd(status: SessionStatus): void {
    this.writer.writeSessionEnd({ status, endTimeSecs: Date.now() / 1000 });
  }

  close(): void {
    this.writer.close();
  }
}
