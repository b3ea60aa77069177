import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { messageTypeOf } from './walk.js';
/**
 * Scans `bytes` as a `desc` message and returns the first structural problem, or undefined when the wire
 * structure is sound (the problem then lies elsewhere, e.g. in a value). Never descends deeper than
 * `depthLimit` messages, so the scan is as bounded as the decode it explains.
 */
export function locateWireProblem(desc, bytes, depthLimit) {
    return scan(desc, bytes, 0, depthLimit);
}
function scan(desc, bytes, base, depthLeft) {
    if (depthLeft <= 0)
        return undefined;
    const reader = new BinaryReader(bytes);
    while (reader.pos < reader.len) {
        const at = reader.pos;
        try {
            const [fieldNo, wireType] = reader.tag();
            const field = desc.fields.find((f) => f.number === fieldNo);
            if (wireType !== WireType.LengthDelimited) {
                reader.skip(wireType, fieldNo);
                continue;
            }
            const length = reader.uint32();
            const left = reader.len - reader.pos;
            if (length > left) {
                const name = field === undefined ? `field ${fieldNo}` : field.name;
                return { offset: base + at, reason: `${desc.name}.${name} claims ${length} bytes but only ${left} remain` };
            }
            const bodyStart = reader.pos;
            const child = field === undefined ? undefined : messageTypeOf(field);
            // Map entries wrap their value message; scanning them as the value type would misreport, so skip them.
            if (child !== undefined && field?.fieldKind !== 'map') {
                const inner = scan(child, bytes.subarray(bodyStart, bodyStart + length), base + bodyStart, depthLeft - 1);
                if (inner !== undefined)
                    return inner;
            }
            reader.pos = bodyStart + length;
        }
        catch (err) {
            const name = desc.name;
            return { offset: base + at, reason: `${err instanceof Error ? err.message : String(err)} in ${name}` };
        }
    }
    return undefined;
}
