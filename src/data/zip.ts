/**
 * The members of a zip archive, as numpy's `np.savez` (stored) and `np.savez_compressed` (deflated) write them,
 * read from the archive's central directory (PKWARE APPNOTE 6.3: end-of-central-directory record, central
 * directory headers, local file headers). Only what those files use is accepted: stored (method 0) and deflated
 * (method 8) members, no encryption, no multi-disk archive, and no zip64 record (an archive over 4 GiB or with more
 * than 65,535 members). numpy adds a zip64 extra field to every local header; the sizes it holds also sit in the
 * central directory, which is what is read here. Every member's size and CRC-32 are checked.
 */
import { crc32, inflateRawSync } from 'node:zlib';
import { RegraftError } from '../errors.js';

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const ZIP64_END_LOCATOR = 0x07064b50;
const CENTRAL_HEADER = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
const END_RECORD_SIZE = 22;
/** The end record ends with a comment of at most 65,535 bytes. */
const MAX_COMMENT = 0xffff;
const STORED = 0;
const DEFLATED = 8;
/** General-purpose flag bits 0 (encrypted) and 6 (strong encryption). */
const ENCRYPTED_FLAGS = 0x0041;

export interface ZipMember {
  name: string;
  data: Uint8Array;
}

/** Every member of the archive, in central-directory order. `path` names the archive in errors. */
export function readZip(buf: Uint8Array, path: string): ZipMember[] {
  const fail = (why: string, what = 're-save it with np.savez or np.savez_compressed'): RegraftError =>
    new RegraftError(`${path} is not a zip archive regraft reads: ${why}; ${what}`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const end = findEndRecord(view);
  if (end < 0) throw fail('no end-of-central-directory record (is it an .npz file, complete?)');
  if (end >= 20 && view.getUint32(end - 20, true) === ZIP64_END_LOCATOR) throw fail('it is a zip64 archive', 'regraft reads .npz files under 4 GiB with at most 65,535 arrays');
  const disk = view.getUint16(end + 4, true);
  const cdDisk = view.getUint16(end + 6, true);
  const count = view.getUint16(end + 10, true);
  const cdSize = view.getUint32(end + 12, true);
  const cdOffset = view.getUint32(end + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) throw fail('it is a zip64 archive', 'regraft reads .npz files under 4 GiB with at most 65,535 arrays');
  if (disk !== 0 || cdDisk !== 0 || view.getUint16(end + 8, true) !== count) throw fail('it spans several disks');
  if (cdOffset + cdSize > end) throw fail('its central directory lies outside the file (truncated?)');

  const members: ZipMember[] = [];
  const seen = new Set<string>();
  let at = cdOffset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > end || view.getUint32(at, true) !== CENTRAL_HEADER) throw fail(`central directory entry ${i + 1} of ${count} is damaged`);
    const flags = view.getUint16(at + 8, true);
    const method = view.getUint16(at + 10, true);
    const crc = view.getUint32(at + 16, true);
    const compressedSize = view.getUint32(at + 20, true);
    const size = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const localOffset = view.getUint32(at + 42, true);
    const name = new TextDecoder().decode(buf.subarray(at + 46, at + 46 + nameLength));
    const member = `member '${name}'`;
    if (flags & ENCRYPTED_FLAGS) throw fail(`${member} is encrypted`, 'save the arrays without a password');
    if (compressedSize === 0xffffffff || size === 0xffffffff || localOffset === 0xffffffff) throw fail(`${member} needs zip64 sizes`, 'regraft reads .npz files under 4 GiB');
    if (method !== STORED && method !== DEFLATED) throw fail(`${member} uses compression method ${method}`, 'regraft reads stored and deflated members, as np.savez and np.savez_compressed write them');
    if (seen.has(name)) throw fail(`${member} appears twice`);
    seen.add(name);
    members.push({ name, data: memberData(buf, view, localOffset, { name, method, crc, compressedSize, size }, fail) });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return members;
}

/** The end record's offset: its signature, searched backwards over the longest possible comment; -1 if none. */
function findEndRecord(view: DataView): number {
  const last = view.byteLength - END_RECORD_SIZE;
  for (let at = last; at >= 0 && at >= last - MAX_COMMENT; at--) {
    if (view.getUint32(at, true) === END_OF_CENTRAL_DIRECTORY && at + END_RECORD_SIZE + view.getUint16(at + 20, true) === view.byteLength) return at;
  }
  return -1;
}

interface Entry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
}

function memberData(buf: Uint8Array, view: DataView, offset: number, e: Entry, fail: (why: string) => RegraftError): Uint8Array {
  const member = `member '${e.name}'`;
  if (offset + 30 > buf.length || view.getUint32(offset, true) !== LOCAL_HEADER) throw fail(`the local header of ${member} is damaged`);
  const start = offset + 30 + view.getUint16(offset + 26, true) + view.getUint16(offset + 28, true);
  if (start + e.compressedSize > buf.length) throw fail(`${member} is truncated`);
  const raw = buf.subarray(start, start + e.compressedSize);
  let data: Uint8Array;
  if (e.method === STORED) {
    data = raw;
  } else {
    try {
      data = inflateRawSync(raw);
    } catch (err) {
      throw fail(`${member} does not inflate (${(err as Error).message})`);
    }
  }
  if (data.length !== e.size) throw fail(`${member} holds ${data.length} bytes, its header says ${e.size}`);
  if (crc32(data) !== e.crc) throw fail(`${member} fails its CRC-32 check (the file is damaged)`);
  return data;
}
