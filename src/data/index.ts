export type { Dataset, FloatTargets } from './dataset.js';
export { subsetDataset, selectSamples, sampleSize } from './dataset.js';
export { loadDataset, type LoadOptions } from './load.js';
export { parseDataSpec, type DataSource } from './spec.js';
export type { CsvOptions } from './csv.js';
export { fitSampleShape, fitTargetShape } from './fit.js';
export { splitDataset, type DatasetSplit } from './split.js';
export { BatchLoader, type BatchLoaderOptions, type Batch } from './batch-loader.js';
