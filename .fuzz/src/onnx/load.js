/**
 * Loading ONNX models from files or memory into self-contained protobuf-es ModelProtos.
 */
import { open } from 'node:fs/promises';
import { RegraftError } from '../errors.js';
import { decodeModel } from './codec.js';
import { externalTensors, resolveExternalData } from './external-data.js';
/** Protobuf cannot address messages of 2 GiB or more; larger models must keep weights in external data. */
export const MAX_MODEL_FILE_BYTES = 2 ** 31 - 1;
/** Loads an .onnx file, with its external data (if any) read into the tensors. */
export async function loadModelFile(path, opts = {}) {
    const bytes = await readModelFile(path);
    const proto = decodeModel(bytes, path);
    const externalData = await resolveExternalData(proto, path, opts.loadExternalData ?? true);
    return { proto, path, externalData };
}
/**
 * Loads a model from bytes in memory. With no folder to resolve data files against, a model that uses external
 * data is refused; load it with {@link loadModelFile}. raw_data fields are views into `bytes`.
 */
export function loadModelBytes(bytes, source) {
    const proto = decodeModel(bytes, source);
    const [first] = externalTensors(proto);
    if (first !== undefined) {
        throw new RegraftError(`${source}: tensor '${first.name}' keeps its data in an external file; load the model from its file with loadModelFile`);
    }
    return { proto, path: source, externalData: [] };
}
/** Reads a model file with positioned reads into one buffer sized from fstat (readFile caps at 2 GiB anyway). */
async function readModelFile(path) {
    const handle = await open(path, 'r').catch((err) => {
        if (err.code === 'ENOENT')
            throw new RegraftError(`${path}: no such file; check the model path`);
        if (err.code === 'EISDIR')
            throw new RegraftError(`${path}: is a folder, not a model file; pass the .onnx file inside it`);
        throw new RegraftError(`${path}: cannot open (${err.code ?? err.message}); check the path and its permissions`);
    });
    try {
        const info = await handle.stat();
        if (info.isDirectory())
            throw new RegraftError(`${path}: is a folder, not a model file; pass the .onnx file inside it`);
        if (!info.isFile())
            throw new RegraftError(`${path}: not a regular file; pass an .onnx file`);
        if (info.size > MAX_MODEL_FILE_BYTES) {
            throw new RegraftError(`${path}: ${info.size} bytes, over protobuf's 2 GiB limit, so not a valid ONNX model file; keep large weights in external data`);
        }
        const bytes = new Uint8Array(info.size);
        let done = 0;
        while (done < bytes.byteLength) {
            const { bytesRead } = await handle.read(bytes, done, bytes.byteLength - done, done);
            if (bytesRead === 0)
                throw new RegraftError(`${path}: file shrank while being read; try again`);
            done += bytesRead;
        }
        return bytes;
    }
    finally {
        await handle.close();
    }
}
