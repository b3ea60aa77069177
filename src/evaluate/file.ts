/**
 * What `regraft eval` (and `train --test`) does before scoring any model file: load the model and the data, find
 * the one input to feed and the output to score, fit the data to the input, and open a CPU session.
 */
import { fitSampleShape, loadDataset, type Dataset } from '../data/index.js';
import { RegraftError } from '../errors.js';
import type { Model } from '../ir/model.js';
import type { Dim, Value } from '../ir/value.js';
import { loadModel, modelToBytes } from '../model-io.js';
import { createSession, type Session } from '../runtime/index.js';
import { checkFeaturesFit, featureInput, featureTypeOf, type FeatureType } from './feature-input.js';

/** A model file as evaluation reads it: its path (for messages and the session's name) and the model loaded from it. */
export interface ModelFile {
  path: string;
  model: Model;
}

/**
 * The model file to evaluate: loaded from `file` when that is a path, as given when the caller has loaded it already
 * (evaluateFile loads it once to choose the scoring, then hands it on rather than parsing the file again).
 */
export async function openModelFile(file: string | ModelFile): Promise<ModelFile> {
  return typeof file === 'string' ? { path: file, model: await loadModel(file) } : file;
}

export interface FileEvaluation {
  session: Session;
  ds: Dataset;
  input: Value;
  inputType: FeatureType;
  /** Dims of one sample as the input wants them. */
  sampleDims: number[];
  output: Value;
}

export interface FileEvaluationOptions {
  /** The output to score (default the model's first). */
  output?: string;
  /** What the output holds, for messages: 'logits' or 'prediction'. */
  role: string;
  /** How the data's labels are read. */
  targets: 'classes' | 'values';
  /** Checks of the output alone (e.g. logits must be [N, C]), before the data is loaded. */
  checkOutput?(output: Value, model: Model): void;
  /** Checks of the data against the output, right after loading. */
  checkData?(ds: Dataset, output: Value): void;
}

/** Runs `use` on the prepared model and data, releasing the session afterwards. */
export async function withFileEvaluation<T>(file: string | ModelFile, dataSpec: string, opts: FileEvaluationOptions, use: (e: FileEvaluation) => Promise<T>): Promise<T> {
  const { path: modelPath, model } = await openModelFile(file);
  const input = featureInput(model, modelPath);
  const output = graphOutput(model, modelPath, opts.output, opts.role);
  opts.checkOutput?.(output, model);
  const ds = await loadDataset(dataSpec, { targets: opts.targets });
  opts.checkData?.(ds, output);
  const inputDims: Dim[] = input.shape ?? ['N', ...ds.sampleShape];
  const sampleDims = fitSampleShape(ds, inputDims, input.name);
  const inputType = featureTypeOf(input, `model ${modelPath}`);
  checkFeaturesFit(ds, inputType, input.name);
  const session = await createSession(modelToBytes(model), { name: modelPath });
  try {
    return await use({ session, ds, input, inputType, sampleDims, output });
  } finally {
    await session.release();
  }
}

function graphOutput(model: Model, modelPath: string, name: string | undefined, role: string): Value {
  const outputs = model.graph.outputs;
  const output = name === undefined ? outputs[0] : outputs.find((v) => v.name === name);
  if (output === undefined) {
    const names = outputs.map((v) => v.name).join(', ') || 'none';
    throw new RegraftError(`model ${modelPath} has no output '${name ?? ''}' (outputs: ${names}); pick the ${role} with --target`);
  }
  return output;
}
