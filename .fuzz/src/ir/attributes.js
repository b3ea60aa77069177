import { create } from '@bufbuild/protobuf';
import { AttributeProtoSchema, AttributeProto_AttributeType as AttrType, } from 'onnx-buf';
import { RegraftError } from '../errors.js';
export { AttrType };
export const float = (value) => ({ kind: 'float', value });
export const floats = (value) => ({ kind: 'floats', value });
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();
function isMessage(v, typeName) {
    return typeof v === 'object' && v !== null && v.$typeName === typeName;
}
export function makeAttribute(name, value) {
    if (typeof value === 'number') {
        return Number.isInteger(value)
            ? create(AttributeProtoSchema, { name, type: AttrType.INT, i: BigInt(value) })
            : create(AttributeProtoSchema, { name, type: AttrType.FLOAT, f: value });
    }
    if (typeof value === 'bigint')
        return create(AttributeProtoSchema, { name, type: AttrType.INT, i: value });
    if (typeof value === 'string')
        return create(AttributeProtoSchema, { name, type: AttrType.STRING, s: utf8.encode(value) });
    if (Array.isArray(value)) {
        if (value.every((x) => typeof x === 'string')) {
            return create(AttributeProtoSchema, { name, type: AttrType.STRINGS, strings: value.map((s) => utf8.encode(s)) });
        }
        const nums = value;
        return nums.every(Number.isInteger)
            ? create(AttributeProtoSchema, { name, type: AttrType.INTS, ints: nums.map(BigInt) })
            : create(AttributeProtoSchema, { name, type: AttrType.FLOATS, floats: [...nums] });
    }
    if (isMessage(value, 'onnx.TensorProto'))
        return create(AttributeProtoSchema, { name, type: AttrType.TENSOR, t: value });
    if (isMessage(value, 'onnx.GraphProto'))
        return create(AttributeProtoSchema, { name, type: AttrType.GRAPH, g: value });
    const tagged = value;
    if (tagged.kind === 'float')
        return create(AttributeProtoSchema, { name, type: AttrType.FLOAT, f: tagged.value });
    if (tagged.kind === 'floats')
        return create(AttributeProtoSchema, { name, type: AttrType.FLOATS, floats: [...tagged.value] });
    throw new RegraftError(`attribute '${name}': unsupported value ${String(value)}`);
}
/** Typed reads of attributes; each names the node in its error so a bad model is easy to find. */
export class AttributeReader {
    attrs;
    where;
    constructor(attrs, where) {
        this.attrs = attrs;
        this.where = where;
    }
    has(name) {
        return this.attrs.has(name);
    }
    int(name, fallback) {
        const a = this.attrs.get(name);
        if (!a)
            return this.missing(name, fallback);
        if (a.type !== AttrType.INT)
            throw this.wrongType(name, 'INT', a);
        return Number(a.i);
    }
    float(name, fallback) {
        const a = this.attrs.get(name);
        if (!a)
            return this.missing(name, fallback);
        if (a.type !== AttrType.FLOAT)
            throw this.wrongType(name, 'FLOAT', a);
        return a.f;
    }
    ints(name, fallback) {
        const a = this.attrs.get(name);
        if (!a)
            return this.missing(name, fallback);
        if (a.type !== AttrType.INTS)
            throw this.wrongType(name, 'INTS', a);
        return a.ints.map(Number);
    }
    floatList(name, fallback) {
        const a = this.attrs.get(name);
        if (!a)
            return this.missing(name, fallback);
        if (a.type !== AttrType.FLOATS)
            throw this.wrongType(name, 'FLOATS', a);
        return [...a.floats];
    }
    string(name, fallback) {
        const a = this.attrs.get(name);
        if (!a)
            return this.missing(name, fallback);
        if (a.type !== AttrType.STRING)
            throw this.wrongType(name, 'STRING', a);
        return fromUtf8.decode(a.s);
    }
    tensor(name) {
        const a = this.attrs.get(name);
        if (!a)
            return undefined;
        if (a.type !== AttrType.TENSOR || !a.t)
            throw this.wrongType(name, 'TENSOR', a);
        return a.t;
    }
    missing(name, fallback) {
        if (fallback === undefined)
            throw new RegraftError(`${this.where}: required attribute '${name}' is missing`);
        return fallback;
    }
    wrongType(name, expected, a) {
        return new RegraftError(`${this.where}: attribute '${name}' should be ${expected} but is ${AttrType[a.type] ?? a.type}`);
    }
}
/** Subgraphs held by an attribute (If/Loop/Scan bodies), in order. */
export function attributeSubgraphs(a) {
    if (a.type === AttrType.GRAPH && a.g)
        return [a.g];
    if (a.type === AttrType.GRAPHS)
        return a.graphs;
    return [];
}
