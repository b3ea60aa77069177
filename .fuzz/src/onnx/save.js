/**
 * Saving models to files: atomic (temp file + fsync + rename, nothing left behind on failure), streaming (large
 * tensors are written from their own buffers, never copied into one big output buffer), and optionally moving
 * large initializers into one external data file the way onnx's Python `convert_model_to_external_data` does.
 */
import { create } from '@bufbuild/protobuf';
import { GraphProtoSchema, ModelProtoSchema, StringStringEntryProtoSchema, TensorProto_DataLocation, } from 'onnx-buf';
import { lstat, realpath, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { RegraftError, describeError } from '../errors.js';
import { AtomicFile } from '../util/atomic-file.js';
import { assertSubgraphDepth } from './codec.js';
import { externalTensors } from './external-data.js';
import { MAX_MODEL_FILE_BYTES } from './load.js';
import { checkDataFileTarget } from './safe-path.js';
import { encodePieces } from './stream-encode.js';
import { forEachMessage } from './walk.js';
/** Tensors at least this many bytes go to the external data file by default (onnx's `size_threshold`). */
export const DEFAULT_EXTERNAL_THRESHOLD = 1024;
/** Offsets in the external data file are multiples of this, so runtimes can map tensors page-aligned. */
export const EXTERNAL_DATA_ALIGNMENT = 4096;
/** raw_data at least this long is written from its own buffer instead of being copied. */
const PASS_THROUGH_BYTES = 64 * 1024;
/**
 * Writes `proto` to `path` atomically; with no change to a decoded model the bytes are identical to the input.
 * `proto` is never modified, also when tensors move to external data (changed copies are encoded instead).
 */
export async function saveModelFile(proto, path, opts = {}) {
    assertSubgraphDepth(proto, path);
    const [stillExternal] = externalTensors(proto);
    if (stillExternal !== undefined) {
        throw new RegraftError(`${path}: tensor '${stillExternal.name}' still points to external data; load the model with loadExternalData (the default) before saving`);
    }
    const layout = opts.externalData === undefined ? undefined : await planExternalData(proto, path, opts);
    const model = encodePieces(ModelProtoSchema, proto, {
        passThroughBytes: PASS_THROUGH_BYTES,
        substitutes: layout?.substitutes,
    });
    if (model.size > MAX_MODEL_FILE_BYTES) {
        throw new RegraftError(`${path}: the model would be ${model.size} bytes, over protobuf's 2 GiB limit; save with external data`);
    }
    await writeFiles(path, model, layout);
    return {
        bytes: model.size,
        externalBytes: layout?.data.size ?? 0,
        externalTensors: layout?.substitutes.size ?? 0,
    };
}
async function planExternalData(proto, path, opts) {
    const location = (opts.externalData ?? '').replaceAll('\\', '/');
    const where = `${path}: --external-data`;
    const dataPath = await checkDataFileTarget(dirname(resolve(path)), location, where);
    await refuseSourceDataFile(dataPath, location, path, opts.sourceExternalData);
    const threshold = opts.sizeThreshold ?? DEFAULT_EXTERNAL_THRESHOLD;
    if (!Number.isSafeInteger(threshold) || threshold < 0) {
        throw new RegraftError(`${path}: size threshold ${threshold} is not a byte count; pass a whole number >= 0`);
    }
    const data = { pieces: [], size: 0 };
    const substitutes = new Map();
    for (const tensor of initializers(proto)) {
        const raw = tensor.rawData;
        if (raw.byteLength === 0 || raw.byteLength < threshold || substitutes.has(tensor))
            continue;
        const offset = alignUp(data.size, EXTERNAL_DATA_ALIGNMENT);
        if (offset > data.size)
            data.pieces.push(new Uint8Array(offset - data.size));
        data.pieces.push(raw);
        data.size = offset + raw.byteLength;
        substitutes.set(tensor, pointToExternal(tensor, location, offset, raw.byteLength));
    }
    return { dataPath, data, substitutes };
}
/** A shallow copy of `tensor` whose data lives at [offset, offset+length) of `location`; raw_data cleared. */
function pointToExternal(tensor, location, offset, length) {
    const copy = Object.assign(Object.create(Object.getPrototypeOf(tensor)), tensor);
    // Deleting the own property falls back to the prototype's default: raw_data counts as unset and is not written.
    delete copy.rawData;
    copy.dataLocation = TensorProto_DataLocation.EXTERNAL;
    // Same keys, order and decimal strings as onnx's Python set_external_data.
    copy.externalData = [
        create(StringStringEntryProtoSchema, { key: 'location', value: location }),
        create(StringStringEntryProtoSchema, { key: 'offset', value: String(offset) }),
        create(StringStringEntryProtoSchema, { key: 'length', value: String(length) }),
    ];
    return copy;
}
/** Initializers of the main graph and of every subgraph (onnx's helper leaves attribute tensors inline too). */
function initializers(proto) {
    const found = [];
    forEachMessage(ModelProtoSchema, proto, GraphProtoSchema, (graph) => {
        found.push(...graph.initializer);
    });
    return found;
}
async function refuseSourceDataFile(dataPath, location, path, sourceRefs) {
    if (sourceRefs === undefined || sourceRefs.length === 0)
        return;
    const target = await realpathOrSelf(dataPath);
    for (const ref of sourceRefs) {
        if ((await realpathOrSelf(ref.file)) === target) {
            throw new RegraftError(`${path}: external data file '${location}' holds tensor '${ref.tensor}' of the source model; ` +
                'replacing it would break that model, so choose another name');
        }
    }
}
/** The file's real path; one that does not exist yet is named by its folder's real path and its own name. */
async function realpathOrSelf(path) {
    const real = await realpath(path).catch(() => undefined);
    if (real !== undefined)
        return real;
    const folder = await realpath(dirname(path)).catch(() => dirname(path));
    return join(folder, basename(path));
}
/** Writes the data file (if any) and the model file via temp files; both are renamed only once both are complete. */
async function writeFiles(path, model, layout) {
    const temps = [];
    let dataCommitted = false;
    try {
        if (layout !== undefined) {
            const dataFile = await AtomicFile.create(layout.dataPath);
            temps.push(dataFile);
            await dataFile.write(layout.data.pieces);
        }
        const modelFile = await AtomicFile.create(path);
        temps.push(modelFile);
        await modelFile.write(model.pieces);
        await refuseFolderTarget(path);
        if (layout !== undefined) {
            await temps[0].commit();
            dataCommitted = true;
        }
        await modelFile.commit();
    }
    catch (err) {
        await Promise.all(temps.map((t) => t.abort()));
        // A data file without its model is useless and misleading; the model rename is the commit point.
        if (dataCommitted && layout !== undefined)
            await unlink(layout.dataPath).catch(() => undefined);
        if (err instanceof RegraftError)
            throw err;
        throw new RegraftError(`${path}: cannot write the model (${describeError(err)}); check that the folder exists and is writable`);
    }
}
/** rename(2) would replace an empty folder by a file on some systems; a folder target is always a mistake. */
async function refuseFolderTarget(path) {
    const info = await lstat(path).catch(() => undefined);
    if (info?.isDirectory())
        throw new RegraftError(`${path}: is a folder; pass a file path for the model`);
}
function alignUp(value, alignment) {
    return Math.ceil(value / alignment) * alignment;
}
