/**
 * A shallow copy of a protobuf-es message that keeps field presence: proto2 messages (ONNX's schema) keep defaults
 * on the prototype and set fields as own properties, so copying own properties onto the same prototype copies
 * exactly what was set, unknown fields (`$unknown`) included. The caller then replaces the fields it changes.
 */
export function shallowCopy(message) {
    return Object.assign(Object.create(Object.getPrototypeOf(message)), message);
}
export function sameStrings(a, b) {
    if (a.length !== b.length)
        return false;
    for (let i = 0; i < a.length; i++)
        if (a[i] !== b[i])
            return false;
    return true;
}
export function sameItems(a, b) {
    if (a.length !== b.length)
        return false;
    for (let i = 0; i < a.length; i++)
        if (a[i] !== b[i])
            return false;
    return true;
}
