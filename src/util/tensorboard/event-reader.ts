/**
 * Reading back the records of an event file, as far as a writer needs to: where each record lies and the step of
 * its Event. A resumed run uses it to cut its files back to the last checkpointed step, so that the steps replayed
 * after the checkpoint are in the files once, not twice (TensorBoard's own reader would purge the older copies,
 * but the other readers of these files, e.g. `wandb sync` or the Hugging Face Hub, may not).
 *
 * Reading stops at the first record that is cut short or fails a checksum: that is where TensorBoard's reader
 * stops too, so nothing after it was ever visible.
 */
import { closeSync, ftruncateSync, openSync, readFileSync } from 'node:fs';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { describeError, RegraftError } from '../../errors.js';
import { maskedCrc32c } from './crc32c.js';
import { RECORD_OVERHEAD_BYTES } from './tfrecord.js';

export interface RecordSpan {
  /** Byte offset of the record's first byte (its length field). */
  start: number;
  /** Byte offset just past the record. */
  end: number;
  /** The Event's step (0 when the field is absent, as protobuf defaults it). */
  step: number;
}

/** The whole, checksum-valid records at the start of `bytes`, in order. */
export function readRecordSpans(bytes: Uint8Array): RecordSpan[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const spans: RecordSpan[] = [];
  let offset = 0;
  while (offset + RECORD_OVERHEAD_BYTES <= bytes.length) {
    if (view.getUint32(offset + 8, true) !== maskedCrc32c(bytes.subarray(offset, offset + 8))) break;
    const length = Number(view.getBigUint64(offset, true));
    const end = offset + RECORD_OVERHEAD_BYTES + length;
    if (end > bytes.length) break;
    const data = bytes.subarray(offset + 12, offset + 12 + length);
    if (view.getUint32(offset + 12 + length, true) !== maskedCrc32c(data)) break;
    spans.push({ start: offset, end, step: eventStep(data) });
    offset = end;
  }
  return spans;
}

/** Event.step (field 2, int64); every other field is skipped. */
function eventStep(event: Uint8Array): number {
  const reader = new BinaryReader(event);
  let step = 0;
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 2 && wireType === WireType.Varint) step = Number(reader.int64());
    else reader.skip(wireType, field);
  }
  return step;
}

/**
 * Cuts the event file at `path` back to its records up to `lastStep` (records are written in step order, so
 * everything from the first later one on goes, a cut-short tail included). Returns the number of bytes cut.
 */
export function truncateEventFile(path: string, lastStep: number): number {
  let fd: number | undefined;
  try {
    const bytes = readFileSync(path);
    const spans = readRecordSpans(bytes);
    const firstLater = spans.findIndex((s) => s.step > lastStep);
    const keep = firstLater === -1 ? spans : spans.slice(0, firstLater);
    const keptBytes = keep.length > 0 ? keep[keep.length - 1].end : 0;
    if (keptBytes === bytes.length) return 0;
    fd = openSync(path, 'r+');
    ftruncateSync(fd, keptBytes);
    return bytes.length - keptBytes;
  } catch (err) {
    throw new RegraftError(`cannot cut the TensorBoard event file ${path} back to step ${lastStep}: ${describeError(err)}; check that the file is writable`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
