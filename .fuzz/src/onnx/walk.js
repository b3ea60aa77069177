import { GraphProtoSchema } from 'onnx-buf';
const reachCache = new Map();
/** True when a message of type `from` can (transitively) contain a message of type `target`. */
export function canReach(from, target) {
    let cache = reachCache.get(target.typeName);
    if (cache === undefined) {
        cache = new WeakMap();
        reachCache.set(target.typeName, cache);
    }
    const known = cache.get(from);
    if (known !== undefined)
        return known;
    // Mark as unreachable while exploring, so recursive types (Graph -> Node -> Attribute -> Graph) terminate.
    cache.set(from, false);
    let result = from.typeName === target.typeName;
    for (const field of from.fields) {
        if (result)
            break;
        const child = messageTypeOf(field);
        if (child !== undefined && canReach(child, target))
            result = true;
    }
    cache.set(from, result);
    return result;
}
/** The message type a field holds (singular, list or map value), or undefined for scalar-like fields. */
export function messageTypeOf(field) {
    switch (field.fieldKind) {
        case 'message':
            return field.message;
        case 'list':
            return field.listKind === 'message' ? field.message : undefined;
        case 'map':
            return field.mapKind === 'message' ? field.message : undefined;
        default:
            return undefined;
    }
}
/** The child messages a message holds in one field, in wire order. */
export function childMessages(message, field) {
    const msg = message;
    switch (field.fieldKind) {
        case 'message': {
            if (field.oneof !== undefined) {
                const oneof = msg[field.oneof.localName];
                return oneof.case === field.localName && oneof.value !== undefined ? [oneof.value] : [];
            }
            const value = msg[field.localName];
            return value !== undefined && Object.prototype.hasOwnProperty.call(msg, field.localName) ? [value] : [];
        }
        case 'list':
            return field.listKind === 'message' ? msg[field.localName] : [];
        case 'map':
            return field.mapKind === 'message' ? Object.values(msg[field.localName]) : [];
        default:
            return [];
    }
}
const wireOrderCache = new WeakMap();
/** A message type's fields by field number: the order protobuf-es writes them, so walks follow file order. */
export function fieldsInWireOrder(desc) {
    let sorted = wireOrderCache.get(desc);
    if (sorted === undefined) {
        sorted = desc.fields.concat().sort((a, b) => a.number - b.number);
        wireOrderCache.set(desc, sorted);
    }
    return sorted;
}
/**
 * Calls `visit` for every message of type `target` inside `message` (the message itself included), however deeply
 * nested; does not look inside the found messages. Recursion follows the nesting, so check the model's depth
 * (graphNesting) before walking untrusted input.
 */
export function forEachMessage(desc, message, target, visit) {
    if (desc.typeName === target.typeName) {
        visit(message);
        if (!canReachThroughChildren(desc, target))
            return;
    }
    for (const field of fieldsInWireOrder(desc)) {
        const child = messageTypeOf(field);
        if (child === undefined || !canReach(child, target))
            continue;
        for (const c of childMessages(message, field))
            forEachMessage(child, c, target, visit);
    }
}
function canReachThroughChildren(desc, target) {
    return desc.fields.some((field) => {
        const child = messageTypeOf(field);
        return child !== undefined && canReach(child, target);
    });
}
/**
 * How deeply graphs nest inside `message` (0: no graph, 1: only the main graph, 2: one level of If/Loop/Scan
 * bodies, ...). Stops descending once `stopAbove` is exceeded, so that a hostile model cannot exhaust the stack
 * here; the result is then `stopAbove + 1`.
 */
export function graphNesting(desc, message, stopAbove) {
    let deepest = 0;
    const walk = (d, m, depth) => {
        const here = d.typeName === GraphProtoSchema.typeName ? depth + 1 : depth;
        if (here > deepest)
            deepest = here;
        if (here > stopAbove)
            return;
        for (const field of d.fields) {
            const child = messageTypeOf(field);
            if (child === undefined || !canReach(child, GraphProtoSchema))
                continue;
            for (const c of childMessages(m, field)) {
                walk(child, c, here);
                if (deepest > stopAbove)
                    return;
            }
        }
    };
    walk(desc, message, 0);
    return deepest;
}
