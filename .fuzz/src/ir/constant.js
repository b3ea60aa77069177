/**
 * Values whose contents are known before running the graph: initializers and outputs of Constant nodes. Rules and
 * passes read shapes, axes, scales and sequence lengths from them.
 */
import { DataType } from './dtype.js';
import { tensorToFloat32, tensorToNumbers } from './tensor.js';
/** The tensor `v` always holds: its initializer, or the `value` of the Constant node producing it. */
export function constantTensor(v) {
    if (!v)
        return undefined;
    if (v.initializer)
        return v.initializer;
    if (v.producer?.opType === 'Constant')
        return v.producer.attrs.tensor('value');
    return undefined;
}
/** The values of a constant integer (INT64 or INT32) tensor, else undefined. */
export function constantInts(v) {
    const t = constantTensor(v);
    if (!t || (t.dataType !== DataType.INT64 && t.dataType !== DataType.INT32))
        return undefined;
    return tensorToNumbers(t);
}
/** The values of a constant FLOAT tensor, else undefined. */
export function constantFloats(v) {
    const t = constantTensor(v);
    if (!t || t.dataType !== DataType.FLOAT)
        return undefined;
    return Array.from(tensorToFloat32(t));
}
/** The value of a constant float scalar (FLOAT or DOUBLE; a scalar or a one-element tensor), else undefined. */
export function constantFloat(v) {
    const t = constantTensor(v);
    if (!t || (t.dataType !== DataType.FLOAT && t.dataType !== DataType.DOUBLE))
        return undefined;
    const data = tensorToFloat32(t);
    return data.length === 1 ? data[0] : undefined;
}
/** The value of a constant bool scalar (raw_data or int32_data), else undefined. */
export function constantBool(v) {
    const t = constantTensor(v);
    if (!t || t.dataType !== DataType.BOOL)
        return undefined;
    if (t.rawData.length > 0)
        return t.rawData.length === 1 ? t.rawData[0] !== 0 : undefined;
    return t.int32Data.length === 1 ? t.int32Data[0] !== 0 : undefined;
}
