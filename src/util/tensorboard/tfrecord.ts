/**
 * TFRecord framing, the container of TensorBoard's event files. Each record is, little-endian:
 *
 *   uint64 length | uint32 masked CRC-32C of those 8 bytes | data[length] | uint32 masked CRC-32C of data
 */
import { maskedCrc32c } from './crc32c.js';

export const RECORD_OVERHEAD_BYTES = 16;

/** One framed record holding `data`, ready to be appended to the file in a single write. */
export function frameRecord(data: Uint8Array): Uint8Array {
  const record = new Uint8Array(data.length + RECORD_OVERHEAD_BYTES);
  const view = new DataView(record.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(record.subarray(0, 8)), true);
  record.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return record;
}
