/**
 * A schema-free look at protobuf bytes: where the varints and the length prefixes are, so that mutations can hit
 * what a decoder trusts (a length that claims more than is there, a count of 2^63) rather than only random bits.
 * Length-delimited payloads that parse as messages are scanned too (strings and raw data that happen to parse are
 * harmless: they are only more places to mutate).
 */

export interface VarintSite {
  kind: 'varint';
  /** Offset of the varint's first byte, and its length in bytes. */
  at: number;
  size: number;
}

export interface LengthSite {
  kind: 'length';
  /** Offset of the field's tag, and its field number. */
  tagAt: number;
  field: number;
  /** Offset and length of the length prefix (a varint). */
  at: number;
  size: number;
  /** The payload: [start, end). */
  start: number;
  end: number;
  /** Nesting level: 0 for fields of the outermost message. */
  depth: number;
}

export type WireSite = VarintSite | LengthSite;

/** Reads a varint at `pos`; undefined when it runs past `end` or beyond 10 bytes. */
export function readVarint(bytes: Uint8Array, pos: number, end: number): { value: bigint; next: number } | undefined {
  let value = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos + i >= end) return undefined;
    const b = bytes[pos + i];
    value |= BigInt(b & 0x7f) << BigInt(7 * i);
    if ((b & 0x80) === 0) return { value, next: pos + i + 1 };
  }
  return undefined;
}

export function encodeVarint(value: bigint): Uint8Array {
  const out: number[] = [];
  let v = BigInt.asUintN(64, value);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) b |= 0x80;
    out.push(b);
  } while (v !== 0n);
  return Uint8Array.from(out);
}

/** The varint and length sites of a message, nested ones included down to `maxDepth`. */
export function scanWire(bytes: Uint8Array, maxDepth = 12): WireSite[] {
  const sites: WireSite[] = [];
  scanMessage(bytes, 0, bytes.length, 0, maxDepth, sites);
  return sites;
}

/** Scans [start, end) as a message; false (and no sites added) when it is not one. */
function scanMessage(bytes: Uint8Array, start: number, end: number, depth: number, maxDepth: number, out: WireSite[]): boolean {
  const found: WireSite[] = [];
  let pos = start;
  while (pos < end) {
    const tagAt = pos;
    const tag = readVarint(bytes, pos, end);
    if (!tag || tag.value >> 3n === 0n) return false;
    pos = tag.next;
    switch (Number(tag.value & 7n)) {
      case 0: {
        const v = readVarint(bytes, pos, end);
        if (!v) return false;
        found.push({ kind: 'varint', at: pos, size: v.next - pos });
        pos = v.next;
        break;
      }
      case 1:
        pos += 8;
        break;
      case 5:
        pos += 4;
        break;
      case 2: {
        const length = readVarint(bytes, pos, end);
        if (!length || length.value > BigInt(end - length.next)) return false;
        const payloadEnd = length.next + Number(length.value);
        found.push({ kind: 'length', tagAt, field: Number(tag.value >> 3n), at: pos, size: length.next - pos, start: length.next, end: payloadEnd, depth });
        if (depth < maxDepth && payloadEnd > length.next) scanMessage(bytes, length.next, payloadEnd, depth + 1, maxDepth, found);
        pos = payloadEnd;
        break;
      }
      default:
        return false;
    }
    if (pos > end) return false;
  }
  out.push(...found);
  return true;
}

/**
 * `bytes` with [from, to) replaced by `insert`, every length prefix around that range rewritten to match, so the
 * message still frames: the change reaches the decoder's later stages instead of failing at the first length.
 */
export function replaceFramed(bytes: Uint8Array, from: number, to: number, insert: Uint8Array): Uint8Array {
  const around = scanWire(bytes, 64)
    .filter((s): s is LengthSite => s.kind === 'length' && s.start <= from && to <= s.end)
    .sort((a, b) => b.depth - a.depth);
  const pieces: { at: number; size: number; insert: Uint8Array }[] = [{ at: from, size: to - from, insert }];
  let delta = insert.length - (to - from);
  // Innermost first: an outer prefix sits before everything it encloses, so inner rewrites never move it.
  for (const site of around) {
    const prefix = encodeVarint(BigInt(site.end - site.start + delta));
    pieces.push({ at: site.at, size: site.size, insert: prefix });
    delta += prefix.length - site.size;
  }
  pieces.sort((a, b) => a.at - b.at);
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const p of pieces) {
    parts.push(bytes.subarray(at, p.at), p.insert);
    at = p.at + p.size;
  }
  parts.push(bytes.subarray(at));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
