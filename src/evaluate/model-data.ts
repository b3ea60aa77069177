/**
 * Data as a model takes it, for training, evaluation and inference alike: every data input fed by the array of
 * its name, cast to the input's element type and checked against its declared dims (a symbolic dim such as
 * `sequence` bound to the data's size, the same in every input), and the labels checked against the output the loss
 * reads: class indices in range (or the ignore index) in a shape that fits one reading of the logits (which fixes
 * the class axis), next-token labels [N, T] for causal-lm (input_ids when there is no labels array), or float
 * targets shaped like the prediction. A single feature array and its labels (mnist, idx, csv, npy:X,Y) feed a
 * one-input model as they always did. Every mismatch is one line naming the input, the array and its file.
 */
import {
  ARRAY_TYPES,
  castArray,
  checkFinite,
  datasetArrays,
  firstRows,
  fitRowDims,
  fitSampleShape,
  fitTargetShape,
  isNamedSource,
  loadDataset,
  loadNamedArrays,
  parseDataSpec,
  rowSize,
  type ArrayType,
  type Dataset,
  type NamedArray,
  type NamedArrays,
} from '../data/index.js';
import { RegraftError } from '../errors.js';
import { DataType, ortTypeName } from '../ir/dtype.js';
import type { Model } from '../ir/model.js';
import type { Dim, Value } from '../ir/value.js';
import { DEFAULT_IGNORE_INDEX, isRegressionLoss, resolveClassAxis, type ClassAxis, type LossKind } from '../compile/losses.js';
import { LABELS_NAME } from '../training-interface.js';
import { checkFeaturesFit, featureInput, featureTypeOf } from './feature-input.js';

/** The input whose ids causal-lm reads as labels when the data has none (Hugging Face's `labels=input_ids`). */
export const CAUSAL_LM_DEFAULT_LABELS = 'input_ids';

export interface ModelDataOptions {
  loss: LossKind;
  /** The output the loss reads; absent when labels are not read (`regraft run`). */
  prediction?: Value;
  /** The prediction, for messages: "output 'logits'" or "output 'logits' of model m.onnx". */
  predictionWhat?: string;
  classAxis?: ClassAxis;
  ignoreIndex?: number;
  /** Whether labels are read (train, eval) or left out (run). */
  labels: boolean;
  /** Keep the first n rows (0 or absent: all). */
  limit?: number;
  /** Who asks, for messages: `train`, `model m.onnx`. */
  where: string;
  /** The model's file, for messages. */
  modelName: string;
}

export interface ModelData {
  /** One array per data input (cast and shaped as the input declares it) and, when read, `labels`. */
  arrays: NamedArrays;
  /** The model's data inputs, each fed by the array of its name. */
  inputs: string[];
  /** `labels`, when labels were read. */
  labels?: string;
  /** cross-entropy: the axis of the logits that holds the classes. */
  classAxis?: ClassAxis;
  /** Classes the labels use (largest + 1, the ignore index left out); 0 for float targets. */
  numClasses: number;
  /** The sizes the data gives the inputs' symbolic dims (`sequence` = 12), the batch dim left out. */
  dims: ReadonlyMap<string, number>;
}

/** Loads a data spec (or takes named arrays from the API) and fits it to the model. */
export async function loadModelData(data: string | NamedArrays, model: Model, opts: ModelDataOptions): Promise<ModelData> {
  if (typeof data !== 'string') return fitModelData(data, model, opts);
  if (isNamedSource(parseDataSpec(data))) return fitModelData(await loadNamedArrays(data), model, opts);
  const targets = isRegressionLoss(opts.loss) ? 'values' : 'classes';
  // The class count of logits [N, C], when static: a label beyond it is refused at load, naming its row.
  const dims = opts.prediction?.shape;
  const classes = targets === 'classes' && opts.labels && dims?.length === 2 && typeof dims[1] === 'number' ? dims[1] : undefined;
  const ds = await loadDataset(data, { targets, classes, ignoreIndex: opts.ignoreIndex ?? DEFAULT_IGNORE_INDEX, ...(opts.limit ? { limit: opts.limit } : {}) });
  return fitModelData(ds, model, opts);
}

/** Fits loaded data (a single-input Dataset or named arrays) to the model. */
export function fitModelData(data: Dataset | NamedArrays, model: Model, opts: ModelDataOptions): ModelData {
  const fed = model.graph.inputs.filter((v) => !v.initializer);
  const bindings = new Map<string, number>();
  let arrays: NamedArrays;
  if ('arrays' in data) {
    arrays = fitNamedInputs(opts.limit ? firstRows(data, opts.limit) : data, fed, bindings, opts);
  } else {
    arrays = fitDatasetInput(data, model, fed, bindings, opts);
  }
  const inputs = fed.map((v) => v.name);
  if (!opts.labels || !opts.prediction) return { arrays: { ...arrays, arrays: new Map(inputs.map((n) => [n, arrays.arrays.get(n)!])) }, inputs, numClasses: 0, dims: bindings };
  const fitted = fitLabels(arrays, opts.prediction, bindings, opts);
  const kept = new Map(inputs.map((n) => [n, arrays.arrays.get(n)!]));
  kept.set(LABELS_NAME, fitted.labels);
  return { arrays: { ...arrays, arrays: kept }, inputs, labels: LABELS_NAME, classAxis: fitted.classAxis, numClasses: fitted.numClasses, dims: bindings };
}

/** A single feature array for the model's one input: reshaped, and checked as whole numbers for an int64 input. */
function fitDatasetInput(ds: Dataset, model: Model, fed: Value[], bindings: Map<string, number>, opts: ModelDataOptions): NamedArrays {
  if (fed.length > 1) {
    throw new RegraftError(
      `${opts.where}: the model has ${fed.length} data inputs (${fed.map((v) => v.name).join(', ')}) but data '${ds.name}' is one feature array; ` +
        `give one array per input: --data npz:FILE.npz or npy:${fed[0].name}=FILE.npy,...,labels=FILE.npy`,
    );
  }
  const input = featureInput(model, opts.modelName);
  const dims: Dim[] = input.shape ?? ['N', ...ds.sampleShape];
  const sampleDims = fitSampleShape(ds, dims, input.name);
  const type = featureTypeOf(input, opts.where);
  checkFeaturesFit(ds, type, input.name);
  bind(bindings, dims, [ds.size, ...sampleDims], input.name, ds.name);
  // Float targets are shaped as the prediction wants them here, where the message can name the dataset's samples.
  const targetDims = ds.targets && opts.prediction && opts.labels ? fitTargetShape(ds, opts.prediction.shape ?? ['N', ...ds.targets.shape], opts.prediction.name) : undefined;
  const arrays = datasetArrays(ds, input.name, sampleDims, targetDims);
  if (type === 'int64') arrays.arrays.set(input.name, castArray(arrays.arrays.get(input.name)!, 'int64', `model input '${input.name}'`));
  return arrays;
}

/** Every input's array by name, cast to the input's type, its dims checked; arrays no input takes are refused. */
function fitNamedInputs(data: NamedArrays, fed: Value[], bindings: Map<string, number>, opts: ModelDataOptions): NamedArrays {
  const names = [...data.arrays.keys()];
  const inputNames = fed.map((v) => v.name);
  const stray = names.find((n) => n !== LABELS_NAME && !inputNames.includes(n));
  if (stray !== undefined) {
    throw new RegraftError(
      `${opts.where}: array '${stray}' of ${data.name} is not an input of the model (its inputs: ${inputNames.join(', ')}${opts.labels ? `, and ${LABELS_NAME}` : ''}); rename it after the input it feeds or leave it out`,
    );
  }
  const out = new Map<string, NamedArray>();
  for (const input of fed) {
    const raw = data.arrays.get(input.name);
    if (!raw) {
      throw new RegraftError(`${opts.where}: model input '${input.name}' has no array in ${data.name} (arrays: ${names.join(', ')}); add one named ${input.name}`);
    }
    const a = castArray(raw, inputArrayType(input, opts.where), `model input '${input.name}'`);
    // As load-time checks of a feature file: a NaN or infinite feature is one line naming its row, not a NaN loss.
    if (a.type === 'float32' || a.type === 'float64') checkFinite(a.data as Float32Array, a.dims.slice(1), a.source, 'features');
    const declared = input.shape;
    if (declared) {
      const fits = declared.length === a.dims.length && declared.every((d, i) => i === 0 || typeof d !== 'number' || d === a.dims[i]);
      if (!fits) {
        throw new RegraftError(
          `array '${input.name}' (${a.source}) has shape [${a.dims.join(', ')}] but model input '${input.name}' is ${showDims(declared)}; give an array of that shape`,
        );
      }
      bind(bindings, declared, a.dims, input.name, a.source);
    }
    out.set(input.name, a);
  }
  const labels = data.arrays.get(LABELS_NAME);
  if (labels) out.set(LABELS_NAME, labels);
  return { ...data, arrays: out };
}

/** onnxruntime's name of the element type an input declares (float32 when it declares none). */
function inputArrayType(input: Value, where: string): ArrayType {
  if (input.elemType === undefined) return 'float32';
  const name = ortTypeName(input.elemType);
  if ((ARRAY_TYPES as readonly string[]).includes(name)) return name as ArrayType;
  throw new RegraftError(`${where}: model input '${input.name}' is ${name}, which regraft cannot feed from data; feed a model whose inputs are numbers or bools`);
}

/** Binds each symbolic dim (batch dim left out) to the data's size, refusing one symbol with two sizes. */
function bind(bindings: Map<string, number>, declared: readonly Dim[], actual: readonly number[], input: string, source: string): void {
  declared.forEach((d, i) => {
    if (i === 0 || typeof d !== 'string') return;
    const seen = bindings.get(d);
    if (seen !== undefined && seen !== actual[i]) {
      throw new RegraftError(`array '${input}' (${source}) has ${d} = ${actual[i]} (dim ${i}) but another input's array has ${d} = ${seen}; the arrays of one sample must agree`);
    }
    bindings.set(d, actual[i]);
  });
}

/** The output's dims with its symbols bound to the data's sizes; null where unknown (the batch dim is). */
function boundDims(v: Value, bindings: ReadonlyMap<string, number>): (number | null)[] | undefined {
  return v.shape?.map((d, i) => (i === 0 ? null : typeof d === 'number' ? d : typeof d === 'string' ? (bindings.get(d) ?? null) : null));
}

interface FittedLabels {
  labels: NamedArray;
  classAxis?: ClassAxis;
  numClasses: number;
}

function fitLabels(arrays: NamedArrays, prediction: Value, bindings: ReadonlyMap<string, number>, opts: ModelDataOptions): FittedLabels {
  const what = opts.predictionWhat ?? `output '${prediction.name}'`;
  if (prediction.elemType !== undefined && prediction.elemType !== DataType.FLOAT) {
    throw new RegraftError(`${opts.where}: ${what} is not float; the ${opts.loss} loss needs a float32 prediction`);
  }
  let raw = arrays.arrays.get(LABELS_NAME);
  if (!raw && opts.loss === 'causal-lm') {
    raw = arrays.arrays.get(CAUSAL_LM_DEFAULT_LABELS);
    if (!raw) throw new RegraftError(`${opts.where}: ${arrays.name} has no '${LABELS_NAME}' array, and causal-lm labels default to ${CAUSAL_LM_DEFAULT_LABELS}, which it has neither; add a labels array`);
  }
  if (!raw) throw new RegraftError(`${opts.where}: ${arrays.name} has no '${LABELS_NAME}' array; add the ${isRegressionLoss(opts.loss) ? 'float targets' : 'class indices'} under the name ${LABELS_NAME}`);
  const dims = boundDims(prediction, bindings);
  if (isRegressionLoss(opts.loss)) {
    const labels = castArray(raw, 'float32', `the ${opts.loss} loss`);
    checkFinite(labels.data as Float32Array, labels.dims.slice(1), labels.source, 'targets');
    const rowDims = fitRowDims(`${LABELS_NAME} (${raw.source})`, labels.dims.slice(1), prediction.shape ?? ['N', ...labels.dims.slice(1)], what);
    return { labels: { ...labels, dims: [labels.dims[0], ...rowDims] }, numClasses: 0 };
  }
  let labels = castArray(raw, 'int64', `the ${opts.loss} loss (class indices)`);
  const source = `${LABELS_NAME} (${labels.source})`;
  let classAxis: ClassAxis | undefined;
  let classes: number | null | undefined;
  if (opts.loss === 'causal-lm') {
    const t = dims?.[1] ?? null;
    const fits = dims?.length === 3 && labels.dims.length === 2 && (t === null || t === labels.dims[1]);
    if (!fits) {
      throw new RegraftError(
        `${source} of shape [N${labels.dims.slice(1).map((d) => `, ${d}`).join('')}] do not fit causal-lm logits ${what} ${showDims(['N', ...(dims ?? []).slice(1)])}: ` +
          `they need one token id per position, [N, T] (without labels, input_ids are the labels)`,
      );
    }
    if (labels.dims[1] < 2) throw new RegraftError(`${source} has sequences of ${labels.dims[1]} token; the next-token loss needs at least 2`);
    classes = dims![2];
  } else {
    // Labels (N, 1) for logits [N, C] are one label per sample, as PyTorch takes them squeezed.
    if (dims?.length === 2 && labels.dims.length === 2 && labels.dims[1] === 1) labels = { ...labels, dims: [labels.dims[0]] };
    classAxis = resolveClassAxis({ what, dims }, { source: `(${labels.source})`, rowDims: labels.dims.slice(1) }, opts.classAxis);
    classes = dims === undefined ? undefined : classAxis === 1 ? dims[1] : dims[dims.length - 1];
  }
  const numClasses = checkClassIndices(labels, source, opts.ignoreIndex ?? DEFAULT_IGNORE_INDEX, arrays.name, classes, what);
  return { labels, classAxis, numClasses };
}

/** Labels are class indices 0..C-1 or the ignore index; returns the largest + 1. */
function checkClassIndices(labels: NamedArray, source: string, ignoreIndex: number, dataName: string, classes: number | null | undefined, what: string): number {
  const data = labels.data as BigInt64Array;
  const ignore = BigInt(ignoreIndex);
  let max = -1n;
  let counted = 0;
  for (let i = 0; i < data.length; i++) {
    const y = data[i];
    if (y === ignore) continue;
    if (y < 0n) {
      throw new RegraftError(
        `${source} holds ${y} at row ${Math.floor(i / Math.max(1, rowSize(labels)))}: class indices are 0, 1, 2, ..., and ${ignoreIndex} marks a position that does not count (--ignore-index sets another)`,
      );
    }
    if (y > max) max = y;
    counted++;
  }
  if (counted === 0) throw new RegraftError(`every label of ${source} is the ignore index ${ignoreIndex}: no position would count; label some positions`);
  const numClasses = Number(max) + 1;
  if (typeof classes === 'number' && numClasses > classes) {
    throw new RegraftError(`data '${dataName}' has ${numClasses} classes but ${what} has only ${classes}; use data with at most ${classes} classes or a model with more outputs`);
  }
  return numClasses;
}

const showDims = (dims: readonly (Dim | undefined)[]): string => `[${dims.map((d) => (d === null || d === undefined ? '?' : String(d))).join(', ')}]`;

/** The output a loss reads: the one named, or the first. */
export function predictionOutput(model: Model, output: string | undefined): Value | undefined {
  return output ? model.graph.requireValue(output, 'model output') : model.graph.outputs[0];
}
