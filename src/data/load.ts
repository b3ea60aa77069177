import { RegraftError } from '../errors.js';
import { parseCsv } from './csv.js';
import { numel } from '../ir/tensor.js';
import { countClasses, subsetDataset, type Dataset, type FloatTargets } from './dataset.js';
import { readDataFile } from './files.js';
import { parseIdxFeatures, parseIdxLabels } from './idx.js';
import { mnistFiles } from './mnist.js';
import { isIntegerDtype, parseNpy, type NpyContents } from './npy.js';
import { parseDataSpec } from './spec.js';
import { checkFinite, checkLabelRange } from './validate.js';

export interface LoadOptions {
  /** Keep only the first `limit` samples (IDX files convert only those). */
  limit?: number;
  /**
   * What the label file or column holds: 'classes' (default) are class indices for cross-entropy; 'values' are
   * float targets for the regression losses, any numeric dtype, one or more numbers per sample.
   */
  targets?: 'classes' | 'values';
  /** The model's class count, when known: a class label outside [0, classes) is an error naming its row. */
  classes?: number;
}

/** What pairs with the features: class indices, or float targets. */
type Answers = { labels: Int32Array; path: string } | { targets: FloatTargets; path: string };

/** Loads the dataset a spec names (see spec.ts for the syntax) into memory. */
export async function loadDataset(spec: string, opts: LoadOptions = {}): Promise<Dataset> {
  const source = parseDataSpec(spec);
  const { limit, classes } = opts;
  const values = opts.targets === 'values';
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new RegraftError(`data limit must be a positive integer, got ${limit}`);
  switch (source.kind) {
    case 'mnist': {
      const files = mnistFiles(source.split);
      return loadIdx(spec, files.images, files.labels, limit, values, classes);
    }
    case 'idx':
      return loadIdx(spec, source.images, source.labels, limit, values, classes);
    case 'npy':
      return firstSamples(await loadNpy(spec, source.features, source.labels, values, classes), limit);
    case 'csv': {
      const table = parseCsv((await readDataFile(source.path)).toString('utf8'), source.path, source.options, values ? 'values' : 'classes', classes);
      const answers: Answers = table.targets ? { targets: { values: table.targets, shape: [] }, path: source.path } : { labels: table.labels, path: source.path };
      return firstSamples(assemble(spec, [table.featureCount], table.features, answers), limit);
    }
  }
}

function firstSamples(ds: Dataset, limit: number | undefined): Dataset {
  return limit !== undefined && limit < ds.size ? subsetDataset(ds, limit) : ds;
}

async function loadIdx(spec: string, imagesPath: string, labelsPath: string, limit: number | undefined, values: boolean, classes: number | undefined): Promise<Dataset> {
  const [imageBytes, labelBytes] = await Promise.all([readDataFile(imagesPath), readDataFile(labelsPath)]);
  const images = parseIdxFeatures(imageBytes, imagesPath, limit);
  const labels = parseIdxLabels(labelBytes, labelsPath);
  checkPairedCounts(images.count, imagesPath, labels.length, labelsPath);
  checkFinite(images.features, images.sampleShape, imagesPath, 'features');
  const kept = images.features.length / Math.max(1, numel(images.sampleShape));
  if (!values) checkLabelRange(labels.subarray(0, kept), classes, labelsPath);
  const answers = (l: Int32Array): Answers => (values ? { targets: classesAsValues(l), path: labelsPath } : { labels: l, path: labelsPath });
  if (kept === labels.length) return assemble(spec, images.sampleShape, images.features, answers(labels));
  // As subsetDataset: the class count is the whole file's (a model's output width does not shrink with the data).
  const ds = assemble(`${spec}[:${kept}]`, images.sampleShape, images.features, answers(labels.slice(0, kept)));
  return values ? ds : { ...ds, numClasses: countClasses(labels, labelsPath) };
}

/** Integer labels read as float targets: one number per sample (e.g. 0/1 for bce-logits). */
function classesAsValues(labels: Int32Array): FloatTargets {
  return { values: Float32Array.from(labels), shape: [] };
}

async function loadNpy(spec: string, featuresPath: string, labelsPath: string, values: boolean, classes: number | undefined): Promise<Dataset> {
  const [featureBytes, labelBytes] = await Promise.all([readDataFile(featuresPath), readDataFile(labelsPath)]);
  const features = parseNpy(featureBytes, featuresPath);
  const labels = parseNpy(labelBytes, labelsPath);
  if (features.shape.length < 1) {
    throw new RegraftError(`NPY feature file ${featuresPath} holds a scalar; it needs shape (samples, ...)`);
  }
  checkPairedCounts(features.shape[0], featuresPath, labels.shape[0] ?? 1, labelsPath);
  const answers: Answers = values ? { targets: npyTargets(labels, labelsPath), path: labelsPath } : { labels: npyLabels(labels, labelsPath), path: labelsPath };
  const featureValues = npyFeatures(features);
  checkFinite(featureValues, features.shape.slice(1), featuresPath, 'features');
  if ('targets' in answers) checkFinite(answers.targets.values, answers.targets.shape, labelsPath, 'targets');
  else checkLabelRange(answers.labels, classes, labelsPath);
  return assemble(spec, features.shape.slice(1), featureValues, answers);
}

/** Float targets keep their per-sample shape: (N,) is one number per sample, (N, k) k numbers, and so on. */
function npyTargets(npy: NpyContents, path: string): FloatTargets {
  const shape = npy.shape.slice(1);
  if (npy.shape.length === 0 || numel(shape) === 0) {
    throw new RegraftError(`NPY target file ${path} has shape (${npy.shape.join(', ')}); targets must be (N,) or (N, ...) with at least one number per sample`);
  }
  const { data } = npy;
  // Unlike features, integer targets are not scaled: they are the numbers to predict.
  const values = data instanceof Float32Array ? data : data instanceof BigInt64Array ? Float32Array.from(data, Number) : Float32Array.from(data);
  return { values, shape };
}

/** uint8 arrays are images and get scaled to [0, 1]; other numbers are kept as they are. */
function npyFeatures(npy: NpyContents): Float32Array {
  const { data } = npy;
  if (data instanceof Float32Array) return data;
  const out = new Float32Array(data.length);
  if (data instanceof Uint8Array) {
    for (let i = 0; i < data.length; i++) out[i] = data[i] / 255;
  } else if (data instanceof BigInt64Array) {
    for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  } else {
    out.set(data);
  }
  return out;
}

function npyLabels(npy: NpyContents, path: string): Int32Array {
  const { shape, data, descr } = npy;
  if (!(shape.length === 1 || (shape.length === 2 && shape[1] === 1))) {
    throw new RegraftError(`NPY label file ${path} has shape (${shape.join(', ')}); labels must be (N,) or (N, 1) class indices`);
  }
  if (!isIntegerDtype(descr)) {
    throw new RegraftError(`NPY label file ${path} has dtype '${descr}'; labels must be integers: save y.astype(np.int64)`);
  }
  const labels = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const y = Number(data[i]);
    if (y > 0x7fffffff) throw new RegraftError(`NPY label file ${path}: label ${y} of sample ${i} is too large to be a class index`);
    labels[i] = y;
  }
  return labels;
}

function checkPairedCounts(samples: number, featuresPath: string, labelCount: number, labelsPath: string): void {
  if (samples !== labelCount) {
    throw new RegraftError(
      `${featuresPath} has ${samples} samples but ${labelsPath} has ${labelCount} labels; they must pair one label per sample`,
    );
  }
}

function assemble(name: string, sampleShape: number[], features: Float32Array, answers: Answers): Dataset {
  const size = 'labels' in answers ? answers.labels.length : answers.targets.values.length / Math.max(1, numel(answers.targets.shape));
  if (size === 0) throw new RegraftError(`data spec '${name}' holds no samples`);
  if (features.length !== size * numel(sampleShape)) {
    throw new RegraftError(`data spec '${name}': ${features.length} feature values do not split into ${size} samples of [${sampleShape.join(',')}]`);
  }
  if ('labels' in answers) return { name, size, sampleShape, features, labels: answers.labels, numClasses: countClasses(answers.labels, answers.path) };
  return { name, size, sampleShape, features, labels: new Int32Array(0), numClasses: 0, targets: answers.targets };
}
