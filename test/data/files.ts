// Writers for tiny IDX / NPY / CSV files, so each test builds exactly the bytes it needs.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'regraft-data-'));
}

export function writeFile(dir: string, name: string, bytes: Uint8Array | string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** IDX bytes: magic 00 00 type ndims, big-endian uint32 dims, big-endian values. */
export function idxBytes(typeCode: number, dims: number[], values: number[]): Uint8Array {
  const width: Record<number, number> = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 };
  const w = width[typeCode];
  const out = new Uint8Array(4 + 4 * dims.length + values.length * w);
  const view = new DataView(out.buffer);
  out.set([0, 0, typeCode, dims.length]);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  let o = 4 + 4 * dims.length;
  for (const v of values) {
    if (typeCode === 0x08) view.setUint8(o, v);
    else if (typeCode === 0x09) view.setInt8(o, v);
    else if (typeCode === 0x0b) view.setInt16(o, v, false);
    else if (typeCode === 0x0c) view.setInt32(o, v, false);
    else if (typeCode === 0x0d) view.setFloat32(o, v, false);
    else view.setFloat64(o, v, false);
    o += w;
  }
  return out;
}

/** NPY bytes in format version `major`.0, header padded so the data starts at a multiple of 64 as numpy does. */
export function npyBytes(
  descr: string,
  shape: number[],
  data: ArrayBufferView,
  { major = 1, fortran = false }: { major?: number; fortran?: boolean } = {},
): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const prefix = major === 1 ? 10 : 12;
  const total = Math.ceil((prefix + header.length + 1) / 64) * 64;
  header = header.padEnd(total - prefix - 1, ' ') + '\n';
  const dataBytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(total + dataBytes.length);
  const view = new DataView(out.buffer);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  if (major === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(new TextEncoder().encode(header), prefix);
  out.set(dataBytes, total);
  return out;
}
