/**
 * TensorBoard event files: scalars per step under tags TensorBoard users know (`train/loss`, `val/accuracy`, ...)
 * and the HParams plugin's summaries, so TensorBoard (and what reads its files: the Hugging Face Hub's metrics tab,
 * `wandb sync`, `aim convert`) show a run's curves and compare a study's trials.
 *
 * Layout for a study: the experiment summary in the study's folder (e.g. `tb/`), and each trial in its own
 * sub-folder (`tb/trial-3/`) holding its scalars, its session start and its session end; TensorBoard takes each
 * folder as a run.
 */
export { crc32c, maskedCrc32c } from './crc32c.js';
export { frameRecord, RECORD_OVERHEAD_BYTES } from './tfrecord.js';
export { encodeEvent, type EventRecord, type SummaryValue } from './event-proto.js';
export {
  experimentContent,
  sessionStartContent,
  sessionEndContent,
  HPARAMS_TAGS,
  HPARAMS_PLUGIN_NAME,
  type ExperimentSpec,
  type HParamSpec,
  type HParamType,
  type HParamValue,
  type MetricSpec,
  type SessionEndSpec,
  type SessionStartSpec,
  type SessionStatus,
} from './hparams.js';
export { EventFileWriter, eventFileName, isEventFileName, FILE_VERSION, type EventFileOptions } from './event-file.js';
export { readRecordSpans, truncateEventFile, type RecordSpan } from './event-reader.js';
