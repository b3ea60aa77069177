/**
 * IDX files (the format MNIST ships in, http://yann.lecun.com/exdb/mnist/): a 4-byte magic `0 0 TYPE NDIMS`,
 * NDIMS big-endian uint32 sizes, then the values in C order, big-endian.
 */
import { RegraftError } from '../errors.js';
import { numel } from '../ir/tensor.js';

interface IdxType {
  name: string;
  bytes: number;
  integer: boolean;
  read: (view: DataView, offset: number) => number;
}

const IDX_TYPES: Record<number, IdxType> = {
  0x08: { name: 'uint8', bytes: 1, integer: true, read: (v, o) => v.getUint8(o) },
  0x09: { name: 'int8', bytes: 1, integer: true, read: (v, o) => v.getInt8(o) },
  0x0b: { name: 'int16', bytes: 2, integer: true, read: (v, o) => v.getInt16(o, false) },
  0x0c: { name: 'int32', bytes: 4, integer: true, read: (v, o) => v.getInt32(o, false) },
  0x0d: { name: 'float32', bytes: 4, integer: false, read: (v, o) => v.getFloat32(o, false) },
  0x0e: { name: 'float64', bytes: 8, integer: false, read: (v, o) => v.getFloat64(o, false) },
};

interface IdxHeader {
  type: IdxType;
  typeCode: number;
  dims: number[];
  dataOffset: number;
}

function parseIdxHeader(buf: Uint8Array, path: string): IdxHeader {
  if (buf.length < 4) {
    throw new RegraftError(`IDX file ${path} is truncated: ${buf.length} bytes, shorter than the 4-byte magic`);
  }
  const typeCode = buf[2];
  const type = IDX_TYPES[typeCode];
  if (buf[0] !== 0 || buf[1] !== 0 || type === undefined) {
    const magic = Array.from(buf.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new RegraftError(
      `${path} is not an IDX file: magic bytes ${magic}, expected 00 00 <type 08|09|0b|0c|0d|0e> <ndims>; check the path (gunzip .gz files first)`,
    );
  }
  const ndims = buf[3];
  const dataOffset = 4 + 4 * ndims;
  if (buf.length < dataOffset) {
    throw new RegraftError(`IDX file ${path} is truncated: its header declares ${ndims} dims but the file has ${buf.length} bytes`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const expected = dataOffset + numel(dims) * type.bytes;
  if (buf.length < expected) {
    throw new RegraftError(
      `IDX file ${path} is truncated: shape [${dims.join(',')}] of ${type.name} needs ${expected} bytes, the file has ${buf.length}`,
    );
  }
  return { type, typeCode, dims, dataOffset };
}

/**
 * Samples of an IDX file: dim 0 counts them, the rest is the sample shape. uint8 is scaled to [0, 1]. With `limit`,
 * only the first `limit` samples are converted (`count` is still the file's), which keeps quick runs on a
 * subset of MNIST quick.
 */
export function parseIdxFeatures(buf: Uint8Array, path: string, limit?: number): { count: number; sampleShape: number[]; features: Float32Array } {
  const { type, typeCode, dims, dataOffset } = parseIdxHeader(buf, path);
  if (dims.length < 1) {
    throw new RegraftError(`IDX file ${path} holds a scalar; a feature file needs a first dim that counts the samples`);
  }
  const kept = limit !== undefined ? Math.min(limit, dims[0]) : dims[0];
  const n = kept * numel(dims.slice(1));
  const features = new Float32Array(n);
  if (typeCode === 0x08) {
    const bytes = buf.subarray(dataOffset, dataOffset + n);
    for (let i = 0; i < n; i++) features[i] = bytes[i] / 255;
  } else {
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    for (let i = 0; i < n; i++) features[i] = type.read(view, dataOffset + i * type.bytes);
  }
  return { count: dims[0], sampleShape: dims.slice(1), features };
}

/** Class labels of an IDX file: one dim, integer type. */
export function parseIdxLabels(buf: Uint8Array, path: string): Int32Array {
  const { type, dims, dataOffset } = parseIdxHeader(buf, path);
  if (dims.length !== 1) {
    throw new RegraftError(
      `IDX label file ${path} has shape [${dims.join(',')}]; labels must be one dim (one class index per sample)`,
    );
  }
  if (!type.integer) {
    throw new RegraftError(`IDX label file ${path} holds ${type.name}; labels must be an integer type (class indices)`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const labels = new Int32Array(dims[0]);
  for (let i = 0; i < labels.length; i++) labels[i] = type.read(view, dataOffset + i * type.bytes);
  return labels;
}
