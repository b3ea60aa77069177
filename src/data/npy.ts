/**
 * NPY files (numpy.save), format versions 1.0, 2.0 and 3.0 as specified in numpy's `numpy.lib.format`:
 * magic `\x93NUMPY`, major and minor version bytes, a little-endian header length (uint16 in 1.0, uint32 in
 * 2.0/3.0), then a Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (60000, 784), }`
 * (latin-1 in 1.0/2.0, utf-8 in 3.0), then the raw array.
 */
import { RegraftError } from '../errors.js';
import { numel } from '../ir/tensor.js';

export type NpyArray = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Int16Array | Uint16Array | Uint32Array;

interface NpyDtype {
  /** The onnxruntime tensor type of the same elements. */
  ortType: string;
  bytes: number;
  integer: boolean;
  /** For the dtypes regraft reads: the array over the data. The others are only written (`regraft run` outputs). */
  view?: (buffer: ArrayBuffer, count: number) => NpyArray;
}

/** NPY descr <-> onnxruntime tensor type, all little-endian (`|` means byte order does not apply). */
const NPY_DTYPES: Record<string, NpyDtype> = {
  '<f4': { ortType: 'float32', bytes: 4, integer: false, view: (b, n) => new Float32Array(b, 0, n) },
  '<f8': { ortType: 'float64', bytes: 8, integer: false, view: (b, n) => new Float64Array(b, 0, n) },
  '<i4': { ortType: 'int32', bytes: 4, integer: true, view: (b, n) => new Int32Array(b, 0, n) },
  '<i8': { ortType: 'int64', bytes: 8, integer: true, view: (b, n) => new BigInt64Array(b, 0, n) },
  '|u1': { ortType: 'uint8', bytes: 1, integer: true, view: (b, n) => new Uint8Array(b, 0, n) },
  '|b1': { ortType: 'bool', bytes: 1, integer: false, view: (b, n) => new Uint8Array(b, 0, n) },
  '|i1': { ortType: 'int8', bytes: 1, integer: true, view: (b, n) => new Int8Array(b, 0, n) },
  '<i2': { ortType: 'int16', bytes: 2, integer: true, view: (b, n) => new Int16Array(b, 0, n) },
  '<u2': { ortType: 'uint16', bytes: 2, integer: true, view: (b, n) => new Uint16Array(b, 0, n) },
  '<u4': { ortType: 'uint32', bytes: 4, integer: true, view: (b, n) => new Uint32Array(b, 0, n) },
  '<f2': { ortType: 'float16', bytes: 2, integer: false },
  '<u8': { ortType: 'uint64', bytes: 8, integer: true },
};

const READABLE = Object.keys(NPY_DTYPES).filter((descr) => NPY_DTYPES[descr].view !== undefined);

/** The NPY descr of an onnxruntime tensor type, or undefined when NPY cannot hold it (strings). */
export function npyDescrOf(ortType: string): string | undefined {
  return Object.keys(NPY_DTYPES).find((descr) => NPY_DTYPES[descr].ortType === ortType);
}

/** The onnxruntime tensor type of an NPY descr, or undefined for one regraft does not know. */
export function ortTypeOfNpyDescr(descr: string): string | undefined {
  return NPY_DTYPES[descr]?.ortType;
}

export interface NpyContents {
  descr: string;
  shape: number[];
  data: NpyArray;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function parseNpy(buf: Uint8Array, path: string): NpyContents {
  if (buf.length < 10 || MAGIC.some((b, i) => buf[i] !== b)) {
    throw new RegraftError(`${path} is not an NPY file (no \\x93NUMPY magic); save arrays with numpy.save`);
  }
  const major = buf[6];
  if (major < 1 || major > 3) {
    throw new RegraftError(`NPY file ${path} has format version ${major}.${buf[7]}; regraft reads versions 1.0, 2.0 and 3.0`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (buf.length < 8 + lengthBytes) throw new RegraftError(`NPY file ${path} is truncated inside its header`);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = 8 + lengthBytes;
  const dataOffset = headerStart + headerLength;
  if (buf.length < dataOffset) throw new RegraftError(`NPY file ${path} is truncated inside its header`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(buf.subarray(headerStart, dataOffset));
  const { descr, fortranOrder, shape } = parseHeaderDict(header, path);

  const dtype = NPY_DTYPES[descr];
  if (dtype?.view === undefined) {
    throw new RegraftError(`NPY file ${path} has dtype '${descr}'; regraft reads ${READABLE.join(' ')}; convert it with arr.astype(np.float32)`);
  }
  if (fortranOrder) {
    throw new RegraftError(
      `NPY file ${path} is in Fortran (column-major) order; save a C-order copy with np.save(path, np.ascontiguousarray(arr))`,
    );
  }
  const count = numel(shape);
  const needed = count * dtype.bytes;
  if (buf.length - dataOffset < needed) {
    throw new RegraftError(
      `NPY file ${path} is truncated: shape (${shape.join(', ')}) of ${descr} needs ${needed} data bytes, the file has ${buf.length - dataOffset}`,
    );
  }
  // Copy the data out: a fresh ArrayBuffer is aligned for any typed array, which the file offset need not be.
  // (Not buf.slice: on a Node Buffer that is a view, not a copy.)
  const aligned = new Uint8Array(buf.subarray(dataOffset, dataOffset + needed)).buffer;
  return { descr, shape, data: dtype.view(aligned, count) };
}

/** Whether a dtype regraft reads holds whole numbers (class labels must). */
export function isIntegerDtype(descr: string): boolean {
  const dtype = NPY_DTYPES[descr];
  return dtype?.view !== undefined && dtype.integer;
}

function parseHeaderDict(header: string, path: string): { descr: string; fortranOrder: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new RegraftError(`NPY file ${path} has a malformed header (${header.trim().slice(0, 80)}); re-save it with numpy.save`);
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const d = Number(s.replace(/L$/, ''));
      if (!Number.isInteger(d) || d < 0) throw new RegraftError(`NPY file ${path} has a malformed shape (${shapeText})`);
      return d;
    });
  return { descr, fortranOrder: fortran === 'True', shape };
}

/**
 * An NPY 1.0 file (numpy.lib.format): magic, version, little-endian uint16 header length, the header dict padded
 * with spaces to a multiple of 64 bytes and ending in '\n', then the raw C-order data.
 */
export function encodeNpy(descr: string, shape: readonly number[], data: ArrayBufferView): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const preamble = 10; // magic (6) + version (2) + header length (2)
  const padded = Math.ceil((preamble + dict.length + 1) / 64) * 64;
  const header = dict.padEnd(padded - preamble - 1, ' ') + '\n';
  const out = new Uint8Array(padded + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), preamble);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), padded);
  return out;
}
