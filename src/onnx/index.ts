/**
 * The ONNX codec: lossless decode/encode, file loading with safe external data, and atomic streaming saves.
 */
export { MAX_SUBGRAPH_DEPTH, decodeModel, encodeModel } from './codec.js';
export { type ExternalTensorRef } from './external-data.js';
export { MAX_MODEL_FILE_BYTES, loadModelBytes, loadModelFile, type LoadOptions, type LoadedModel } from './load.js';
export {
  DEFAULT_EXTERNAL_THRESHOLD,
  EXTERNAL_DATA_ALIGNMENT,
  saveModelFile,
  type SaveOptions,
  type SaveReport,
} from './save.js';
