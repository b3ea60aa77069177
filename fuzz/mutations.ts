/**
 * Seeded mutations of model bytes, in the spirit of onnx's OSS-Fuzz targets and libFuzzer's mutators: bit flips,
 * "interesting" bytes, truncation, chunks deleted, duplicated or inserted, and mutations that know protobuf's wire
 * format (see wire.ts): a length prefix or a varint set to a value that lies (0, one off, 2^31, 2^63), a field
 * duplicated or spliced in from another model, and nesting far past any real model's (subgraphs 64-5000 levels
 * deep, sequence-of-sequence types). Every mutation is a pure function of its input and the random stream.
 */
import type { Rng } from '../src/util/rng.js';
import { encodeVarint, readVarint, replaceFramed, scanWire, type LengthSite, type VarintSite } from './wire.js';

export interface Mutation {
  name: string;
  apply(bytes: Uint8Array, rng: Rng, donors: readonly Uint8Array[]): { bytes: Uint8Array; detail: string };
}

const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.int(items.length)];

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `bytes` with [from, to) replaced by `insert`. */
function splice(bytes: Uint8Array, from: number, to: number, insert: Uint8Array): Uint8Array {
  return concat(bytes.subarray(0, from), insert, bytes.subarray(to));
}

function lengthSites(bytes: Uint8Array): LengthSite[] {
  return scanWire(bytes).filter((s): s is LengthSite => s.kind === 'length');
}

function varintSites(bytes: Uint8Array): VarintSite[] {
  return scanWire(bytes).filter((s): s is VarintSite => s.kind === 'varint');
}

/** Lengths and counts that decoders trust: off by one, zero, or far beyond any file. */
const LYING_VALUES = [0n, 1n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 64n - 1n];

/** A protobuf field: tag (field number, wire type 2) and a length-prefixed payload. */
function lengthField(field: number, payload: Uint8Array): Uint8Array {
  return concat(encodeVarint(BigInt((field << 3) | 2)), encodeVarint(BigInt(payload.length)), payload);
}

function varintField(field: number, value: bigint): Uint8Array {
  return concat(encodeVarint(BigInt(field << 3)), encodeVarint(value));
}

const text = (s: string) => new TextEncoder().encode(s);

/**
 * `inner` wrapped in `depth` layers, built in one pass: each layer is a prefix and a suffix around what it wraps,
 * made knowing only that size (wrapping by copying would make a 5000-level case cost quadratic time to build).
 */
function nest(inner: Uint8Array, depth: number, layer: (innerSize: number, level: number) => [Uint8Array, Uint8Array]): Uint8Array {
  const prefixes: Uint8Array[] = [];
  const suffixes: Uint8Array[] = [];
  let size = inner.length;
  for (let level = 0; level < depth; level++) {
    const [prefix, suffix] = layer(size, level);
    prefixes.push(prefix);
    suffixes.push(suffix);
    size += prefix.length + suffix.length;
  }
  return concat(...prefixes.reverse(), inner, ...suffixes);
}

/** A tag and a length, for a length-delimited field whose payload follows. */
function lengthHeader(field: number, size: number): Uint8Array {
  return concat(encodeVarint(BigInt((field << 3) | 2)), encodeVarint(BigInt(size)));
}

/** `graph` inside `depth` levels of GraphProto { node { op_type: "If", attribute { name: "then_branch", type: GRAPH, g } } }. */
function insideIfs(graph: Uint8Array, depth: number): Uint8Array {
  return nest(graph, depth, (size, level) => {
    const attributeHead = concat(lengthField(1, text('then_branch')), varintField(20, 5n), lengthHeader(6, size));
    const attributeSize = attributeHead.length + size;
    const nodeHead = concat(lengthField(1, text('c')), lengthField(2, text(`y${level}`)), lengthField(4, text('If')), lengthHeader(5, attributeSize));
    const nodeSize = nodeHead.length + attributeSize;
    return [concat(lengthHeader(1, nodeSize), nodeHead, attributeHead), lengthField(2, text(`g${level}`))];
  });
}

/** TypeProto nested `depth` sequences deep around a float tensor. */
function deepSequenceType(depth: number): Uint8Array {
  const tensor = lengthField(1, varintField(1, 1n)); // tensor_type { elem_type: FLOAT }
  // sequence_type { elem_type: ... }
  return nest(tensor, depth, (size) => {
    const element = lengthHeader(1, size);
    return [concat(lengthHeader(4, element.length + size), element), new Uint8Array(0)];
  });
}

/** The model with its top-level field `field` (the graph is 7) given a new payload, or undefined without one. */
function replaceTopField(bytes: Uint8Array, field: number, payload: (old: Uint8Array) => Uint8Array): Uint8Array | undefined {
  const site = lengthSites(bytes).find((s) => s.depth === 0 && s.field === field);
  if (!site) return undefined;
  return splice(bytes, site.tagAt, site.end, lengthField(field, payload(bytes.subarray(site.start, site.end))));
}

export const MUTATIONS: readonly Mutation[] = [
  {
    name: 'bit flips',
    apply(bytes, rng) {
      const out = bytes.slice();
      const flips = 1 + rng.int(16);
      for (let i = 0; i < flips && out.length > 0; i++) out[rng.int(out.length)] ^= 1 << rng.int(8);
      return { bytes: out, detail: `${flips} bits` };
    },
  },
  {
    name: 'interesting bytes',
    apply(bytes, rng) {
      const out = bytes.slice();
      const count = 1 + rng.int(8);
      for (let i = 0; i < count && out.length > 0; i++) out[rng.int(out.length)] = pick(rng, [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe]);
      return { bytes: out, detail: `${count} bytes` };
    },
  },
  {
    name: 'truncation',
    apply(bytes, rng) {
      // At a field boundary (where a decoder may think it is done) or anywhere.
      const sites = lengthSites(bytes);
      const at = sites.length > 0 && rng.next() < 0.5 ? pick(rng, sites).start + rng.int(2) : rng.int(Math.max(1, bytes.length));
      return { bytes: bytes.slice(0, at), detail: `to ${at} of ${bytes.length} bytes` };
    },
  },
  {
    name: 'chunk',
    apply(bytes, rng) {
      const at = rng.int(bytes.length + 1);
      const size = 1 + rng.int(64);
      const kind = pick(rng, ['delete', 'duplicate', 'insert random'] as const);
      const chunk = kind === 'insert random' ? Uint8Array.from({ length: size }, () => rng.int(256)) : bytes.slice(at, at + size);
      const framed = rng.next() < 0.5;
      const edit = framed ? replaceFramed : splice;
      const out = kind === 'delete' ? edit(bytes, at, Math.min(at + size, bytes.length), new Uint8Array(0)) : edit(bytes, at, at, chunk);
      return { bytes: out, detail: `${kind} ${chunk.length} bytes at ${at}${framed ? ', lengths around it fixed' : ''}` };
    },
  },
  {
    name: 'length prefix',
    apply(bytes, rng) {
      const sites = lengthSites(bytes);
      if (sites.length === 0) return { bytes, detail: 'no length-delimited field' };
      const site = pick(rng, sites);
      const length = BigInt(site.end - site.start);
      const value = pick(rng, [...LYING_VALUES, length - 1n, length + 1n, length * 2n, BigInt(bytes.length - site.start + 1)]);
      const v = value < 0n ? 0n : value;
      return { bytes: splice(bytes, site.at, site.at + site.size, encodeVarint(v)), detail: `field ${site.field} at byte ${site.at}: length ${length} -> ${v}` };
    },
  },
  {
    name: 'varint',
    apply(bytes, rng) {
      const sites = varintSites(bytes);
      if (sites.length === 0) return { bytes, detail: 'no varint' };
      const site = pick(rng, sites);
      const form = rng.int(4);
      if (form === 0) {
        // Unterminated: every byte has its continuation bit, up to 11 bytes.
        const run = new Uint8Array(site.size + rng.int(11 - Math.min(site.size, 10))).fill(0xff);
        return { bytes: splice(bytes, site.at, site.at + site.size, run), detail: `unterminated at byte ${site.at}` };
      }
      if (form === 1) {
        // Overlong: the same value padded with 0x80 continuation bytes (a decoder must not read past 10 bytes).
        const value = readVarint(bytes, site.at, bytes.length)?.value ?? 0n;
        const plain = encodeVarint(value);
        const padded = new Uint8Array(plain.length + 1 + rng.int(6));
        padded.set(plain);
        for (let i = 0; i < padded.length - 1; i++) padded[i] |= 0x80;
        padded[padded.length - 1] = 0;
        return { bytes: splice(bytes, site.at, site.at + site.size, padded), detail: `overlong (${padded.length} bytes) at byte ${site.at}` };
      }
      // A value (a dim, an attribute, a data type, an opset) the decoder accepts: the framing is kept right.
      const value = form === 2 ? pick(rng, [...LYING_VALUES, 2n ** 64n - 2n, 3n, 7n, 16n, 255n]) : BigInt(rng.int(2 ** 31)) * BigInt(1 + rng.int(2 ** 20));
      return { bytes: replaceFramed(bytes, site.at, site.at + site.size, encodeVarint(value)), detail: `${value} at byte ${site.at}` };
    },
  },
  {
    name: 'duplicate field',
    apply(bytes, rng) {
      const sites = lengthSites(bytes).filter((s) => s.depth === 0);
      if (sites.length === 0) return { bytes, detail: 'no field' };
      const site = pick(rng, sites);
      const field = bytes.slice(site.tagAt, site.end);
      const copies = 1 + rng.int(3);
      return { bytes: concat(bytes, ...Array.from({ length: copies }, () => field)), detail: `top-level field ${site.field} appended ${copies} times` };
    },
  },
  {
    name: 'repeat field',
    apply(bytes, rng) {
      // A node, an initializer, an input given again inside its graph (names defined twice, cycles).
      const sites = lengthSites(bytes).filter((s) => s.depth > 0);
      if (sites.length === 0) return { bytes, detail: 'no nested field' };
      const site = pick(rng, sites);
      const field = bytes.slice(site.tagAt, site.end);
      return { bytes: replaceFramed(bytes, site.end, site.end, field), detail: `field ${site.field} at byte ${site.tagAt} (depth ${site.depth}) repeated` };
    },
  },
  {
    name: 'splice',
    apply(bytes, rng, donors) {
      const sites = lengthSites(bytes);
      const donor = pick(rng, donors);
      const donorSites = lengthSites(donor);
      if (sites.length === 0 || donorSites.length === 0) return { bytes, detail: 'nothing to splice' };
      const into = pick(rng, sites);
      const from = pick(rng, donorSites);
      const payload = donor.subarray(from.start, from.end);
      const framed = rng.next() < 0.5;
      const replacement = concat(encodeVarint(BigInt(payload.length)), payload);
      return {
        bytes: framed ? replaceFramed(bytes, into.at, into.end, replacement) : splice(bytes, into.at, into.end, replacement),
        detail: `field ${into.field} at byte ${into.tagAt} <- another model's field ${from.field} (${payload.length} bytes)${framed ? ', lengths around it fixed' : ''}`,
      };
    },
  },
  {
    name: 'deep nesting',
    apply(bytes, rng) {
      const depth = pick(rng, [63, 64, 65, 200, 1000, 5000]);
      if (rng.next() < 0.5) {
        // Past a few hundred levels the innermost graph is a stub, to keep the case small.
        const stub = depth > 200;
        const nested = replaceTopField(bytes, 7, (graph) => insideIfs(stub ? lengthField(2, text('inner')) : graph, depth));
        return nested ? { bytes: nested, detail: `the ${stub ? 'graph replaced by a stub' : 'graph'} inside ${depth} If subgraphs` } : { bytes, detail: 'no graph' };
      }
      const input = lengthField(11, concat(lengthField(1, text('deep')), lengthField(2, deepSequenceType(depth))));
      const nested = replaceTopField(bytes, 7, (graph) => concat(graph, input));
      return nested ? { bytes: nested, detail: `a graph input of ${depth} nested sequence types` } : { bytes, detail: 'no graph' };
    },
  },
];
