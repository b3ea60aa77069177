/**
 * Reading ONNX external data: tensors whose data_location is EXTERNAL keep their bytes in another file, named by
 * `external_data` entries `location` (relative to the model's folder), `offset` and `length` (bytes, decimal
 * strings; offset defaults to 0, length to the rest of the file), as the ONNX external data spec describes.
 */
import { clearField } from '@bufbuild/protobuf';
import { ModelProtoSchema, TensorProtoSchema, TensorProto_DataLocation } from 'onnx-buf';
import { dirname } from 'node:path';
import { RegraftError } from '../errors.js';
import { openDataFileForRead } from './safe-path.js';
import { forEachMessage } from './walk.js';
/** Tensors of `model` that point to external data, in the order the model holds them. */
export function externalTensors(model) {
    const found = [];
    forEachMessage(ModelProtoSchema, model, TensorProtoSchema, (message) => {
        const tensor = message;
        if (tensor.dataLocation === TensorProto_DataLocation.EXTERNAL)
            found.push(tensor);
    });
    return found;
}
/**
 * Checks every external reference of `model` (loaded from `modelPath`) against the safety rules and the data
 * files' sizes, and, when `inline` is set, reads each tensor's bytes into its raw_data (one buffer per tensor,
 * positioned reads) and clears data_location and external_data, so that the model is self-contained.
 */
export async function resolveExternalData(model, modelPath, inline) {
    const tensors = externalTensors(model);
    if (tensors.length === 0)
        return [];
    const modelDir = dirname(modelPath);
    const files = new Map();
    const refs = [];
    try {
        for (const tensor of tensors) {
            const where = `${modelPath}: tensor '${tensor.name}'`;
            const entry = parseEntries(tensor, where);
            let file = files.get(entry.location);
            if (file === undefined) {
                file = await openDataFileForRead(modelDir, entry.location, where);
                files.set(entry.location, file);
            }
            const length = entry.length ?? file.size - entry.offset;
            if (entry.offset > file.size || length < 0 || entry.offset + length > file.size) {
                throw new RegraftError(`${where}: external data range [${entry.offset}, ${entry.offset + length}) lies outside '${entry.location}' ` +
                    `(${file.size} bytes); the data file is truncated or belongs to another model`);
            }
            refs.push({ tensor: tensor.name, location: entry.location, offset: entry.offset, length, file: file.path });
            if (inline) {
                tensor.rawData = await readRange(file, entry.offset, length);
                clearField(tensor, TensorProtoSchema.field.dataLocation);
                clearField(tensor, TensorProtoSchema.field.externalData);
            }
        }
    }
    finally {
        await Promise.all([...files.values()].map((f) => f.handle.close()));
    }
    // File order reads best in `inspect` and makes the first reference the one at the lowest offset.
    return refs.sort((a, b) => (a.location === b.location ? a.offset - b.offset : a.location < b.location ? -1 : 1));
}
function parseEntries(tensor, where) {
    const values = new Map(tensor.externalData.map((e) => [e.key, e.value]));
    const location = values.get('location');
    if (location === undefined) {
        throw new RegraftError(`${where}: data_location is EXTERNAL but external_data has no 'location'; re-export the model`);
    }
    return {
        location,
        offset: parseByteCount(values.get('offset'), 'offset', where) ?? 0,
        length: parseByteCount(values.get('length'), 'length', where),
    };
}
function parseByteCount(text, key, where) {
    if (text === undefined)
        return undefined;
    const value = /^[0-9]{1,16}$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(value)) {
        throw new RegraftError(`${where}: external_data '${key}' is '${text}', not a byte count; re-export the model`);
    }
    return value;
}
/** Reads exactly [offset, offset+length) into a fresh buffer; one read call moves at most ~2 GiB, so loop. */
async function readRange(file, offset, length) {
    const buffer = new Uint8Array(length);
    let done = 0;
    while (done < length) {
        const { bytesRead } = await file.handle.read(buffer, done, Math.min(length - done, 1 << 30), offset + done);
        if (bytesRead === 0)
            throw new RegraftError(`external data file ended early at byte ${offset + done}; it changed while being read`);
        done += bytesRead;
    }
    return buffer;
}
