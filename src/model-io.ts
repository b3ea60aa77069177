import { exportModel } from './ir/export.js';
import { importModel } from './ir/import.js';
import type { Model } from './ir/model.js';
import { decodeModel, encodeModel } from './onnx/codec.js';
import { loadModelFile, type ExternalTensorRef } from './onnx/load.js';
import { saveModelFile, type SaveReport } from './onnx/save.js';

/** A model read from disk, with what its file pointed to outside itself (for `inspect` and safe saving). */
export interface LoadedModel {
  model: Model;
  path: string;
  externalData: ExternalTensorRef[];
}

/** Reads an ONNX model file (external data included) into the IR. */
export async function loadModel(path: string): Promise<Model> {
  return (await loadModelWithInfo(path)).model;
}

export async function loadModelWithInfo(path: string): Promise<LoadedModel> {
  const loaded = await loadModelFile(path);
  return { model: importModel(loaded.proto), path, externalData: loaded.externalData };
}

/** Decodes ONNX bytes into the IR; `source` names the bytes in errors. */
export function modelFromBytes(bytes: Uint8Array, source = '<bytes>'): Model {
  return importModel(decodeModel(bytes, source));
}

export interface SaveOptions {
  /** Put every tensor of at least `sizeThreshold` bytes into this one file beside the model. */
  externalData?: string;
  sizeThreshold?: number;
  /** External data the source model points into: never overwritten. */
  sourceExternalData?: ExternalTensorRef[];
}

/** Writes the IR to an ONNX file atomically (no half-written file on failure). */
export async function saveModel(model: Model, path: string, opts: SaveOptions = {}): Promise<SaveReport> {
  return saveModelFile(exportModel(model), path, opts);
}

/** The model as ONNX bytes (for onnxruntime sessions). */
export function modelToBytes(model: Model): Uint8Array {
  return encodeModel(exportModel(model));
}
