import { create } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema,
  AttributeProto_AttributeType as AttrType,
  type AttributeProto,
  type GraphProto,
  type TensorProto,
} from 'onnx-buf';
import { RegraftError } from '../errors.js';

export { AttrType };
export type { AttributeProto };

/**
 * JavaScript has one number type, ONNX has INT and FLOAT attributes. A plain integer becomes INT and a fraction
 * FLOAT; wrap a float that happens to be whole (Gemm's `alpha: 1.0`) with `float(1)`.
 */
export interface FloatAttr { readonly kind: 'float'; readonly value: number }
export interface FloatsAttr { readonly kind: 'floats'; readonly value: readonly number[] }
export type AttrValue =
  | number
  | bigint
  | string
  | readonly number[]
  | readonly string[]
  | FloatAttr
  | FloatsAttr
  | TensorProto
  | GraphProto;

export const float = (value: number): FloatAttr => ({ kind: 'float', value });
export const floats = (value: readonly number[]): FloatsAttr => ({ kind: 'floats', value });

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

function isMessage(v: unknown, typeName: string): boolean {
  return typeof v === 'object' && v !== null && (v as { $typeName?: string }).$typeName === typeName;
}

export function makeAttribute(name: string, value: AttrValue): AttributeProto {
  if (typeof value === 'number') {
    return Number.isInteger(value)
      ? create(AttributeProtoSchema, { name, type: AttrType.INT, i: BigInt(value) })
      : create(AttributeProtoSchema, { name, type: AttrType.FLOAT, f: value });
  }
  if (typeof value === 'bigint') return create(AttributeProtoSchema, { name, type: AttrType.INT, i: value });
  if (typeof value === 'string') return create(AttributeProtoSchema, { name, type: AttrType.STRING, s: utf8.encode(value) });
  if (Array.isArray(value)) {
    if (value.every((x) => typeof x === 'string')) {
      return create(AttributeProtoSchema, { name, type: AttrType.STRINGS, strings: (value as string[]).map((s) => utf8.encode(s)) });
    }
    const nums = value as number[];
    return nums.every(Number.isInteger)
      ? create(AttributeProtoSchema, { name, type: AttrType.INTS, ints: nums.map(BigInt) })
      : create(AttributeProtoSchema, { name, type: AttrType.FLOATS, floats: [...nums] });
  }
  if (isMessage(value, 'onnx.TensorProto')) return create(AttributeProtoSchema, { name, type: AttrType.TENSOR, t: value as TensorProto });
  if (isMessage(value, 'onnx.GraphProto')) return create(AttributeProtoSchema, { name, type: AttrType.GRAPH, g: value as GraphProto });
  const tagged = value as FloatAttr | FloatsAttr;
  if (tagged.kind === 'float') return create(AttributeProtoSchema, { name, type: AttrType.FLOAT, f: tagged.value });
  if (tagged.kind === 'floats') return create(AttributeProtoSchema, { name, type: AttrType.FLOATS, floats: [...tagged.value] });
  throw new RegraftError(`attribute '${name}': unsupported value ${String(value)}`);
}

/** Typed reads of attributes; each names the node in its error so a bad model is easy to find. */
export class AttributeReader {
  constructor(private readonly attrs: ReadonlyMap<string, AttributeProto>, private readonly where: string) {}

  has(name: string): boolean {
    return this.attrs.has(name);
  }

  int(name: string, fallback?: number): number {
    const a = this.attrs.get(name);
    if (!a) return this.missing(name, fallback);
    if (a.type !== AttrType.INT) throw this.wrongType(name, 'INT', a);
    return Number(a.i);
  }

  float(name: string, fallback?: number): number {
    const a = this.attrs.get(name);
    if (!a) return this.missing(name, fallback);
    if (a.type !== AttrType.FLOAT) throw this.wrongType(name, 'FLOAT', a);
    return a.f;
  }

  ints(name: string, fallback?: number[]): number[] {
    const a = this.attrs.get(name);
    if (!a) return this.missing(name, fallback);
    if (a.type !== AttrType.INTS) throw this.wrongType(name, 'INTS', a);
    return a.ints.map(Number);
  }

  floatList(name: string, fallback?: number[]): number[] {
    const a = this.attrs.get(name);
    if (!a) return this.missing(name, fallback);
    if (a.type !== AttrType.FLOATS) throw this.wrongType(name, 'FLOATS', a);
    return [...a.floats];
  }

  string(name: string, fallback?: string): string {
    const a = this.attrs.get(name);
    if (!a) return this.missing(name, fallback);
    if (a.type !== AttrType.STRING) throw this.wrongType(name, 'STRING', a);
    return fromUtf8.decode(a.s);
  }

  tensor(name: string): TensorProto | undefined {
    const a = this.attrs.get(name);
    if (!a) return undefined;
    if (a.type !== AttrType.TENSOR || !a.t) throw this.wrongType(name, 'TENSOR', a);
    return a.t;
  }

  private missing<T>(name: string, fallback: T | undefined): T {
    if (fallback === undefined) throw new RegraftError(`${this.where}: required attribute '${name}' is missing`);
    return fallback;
  }

  private wrongType(name: string, expected: string, a: AttributeProto): RegraftError {
    return new RegraftError(`${this.where}: attribute '${name}' should be ${expected} but is ${AttrType[a.type] ?? a.type}`);
  }
}

/** Subgraphs held by an attribute (If/Loop/Scan bodies), in order. */
export function attributeSubgraphs(a: AttributeProto): GraphProto[] {
  if (a.type === AttrType.GRAPH && a.g) return [a.g];
  if (a.type === AttrType.GRAPHS) return a.graphs;
  return [];
}
