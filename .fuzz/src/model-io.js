import { exportModel } from './ir/export.js';
import { importModel } from './ir/import.js';
import { decodeModel, encodeModel } from './onnx/codec.js';
import { loadModelFile } from './onnx/load.js';
import { saveModelFile } from './onnx/save.js';
/** Reads an ONNX model file (external data included) into the IR. */
export async function loadModel(path) {
    return (await loadModelWithInfo(path)).model;
}
export async function loadModelWithInfo(path) {
    const loaded = await loadModelFile(path);
    return { model: importModel(loaded.proto), path, externalData: loaded.externalData };
}
/** Decodes ONNX bytes into the IR; `source` names the bytes in errors. */
export function modelFromBytes(bytes, source = '<bytes>') {
    return importModel(decodeModel(bytes, source));
}
/** Writes the IR to an ONNX file atomically (no half-written file on failure). */
export async function saveModel(model, path, opts = {}) {
    return saveModelFile(exportModel(model), path, opts);
}
/** The model as ONNX bytes (for onnxruntime sessions). */
export function modelToBytes(model) {
    return encodeModel(exportModel(model));
}
