// A minimal reader of numpy's .npz files for tests: a zip archive (PKWARE APPNOTE) of `<name>.npy` entries, stored
// (np.savez) or deflated (np.savez_compressed). Entries are found through the central directory, so data descriptors
// and zip64 extras written after the data do not matter; each entry is parsed by the product's NPY reader.
import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { parseNpy, type NpyContents } from '../src/data/npy.js';

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_HEADER = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;

/** Every array of an .npz file, by name (the entry name without `.npy`). */
export function readNpz(path: string): Map<string, NpyContents> {
  const buf = readFileSync(path);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let end = buf.length - 22;
  while (end >= 0 && view.getUint32(end, true) !== END_OF_CENTRAL_DIRECTORY) end--;
  if (end < 0) throw new Error(`${path}: not a zip archive (no end of central directory)`);
  const entries = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const arrays = new Map<string, NpyContents>();
  for (let k = 0; k < entries; k++) {
    if (view.getUint32(at, true) !== CENTRAL_HEADER) throw new Error(`${path}: bad central directory entry ${k}`);
    const method = view.getUint16(at + 10, true);
    const compressed = view.getUint32(at + 20, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const localOffset = view.getUint32(at + 42, true);
    const name = buf.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    at += 46 + nameLength + extraLength + commentLength;

    if (view.getUint32(localOffset, true) !== LOCAL_HEADER) throw new Error(`${path}: bad local header of ${name}`);
    const dataStart = localOffset + 30 + view.getUint16(localOffset + 26, true) + view.getUint16(localOffset + 28, true);
    const raw = buf.subarray(dataStart, dataStart + compressed);
    if (method !== 0 && method !== 8) throw new Error(`${path}: entry ${name} uses zip method ${method} (only stored and deflate)`);
    const bytes = method === 8 ? inflateRawSync(raw) : raw;
    arrays.set(name.replace(/\.npy$/, ''), parseNpy(new Uint8Array(bytes), `${path}:${name}`));
  }
  return arrays;
}
