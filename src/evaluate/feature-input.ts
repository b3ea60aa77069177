/**
 * The model input that takes a dataset's features, and the tensor type it wants: float32 (images, measurements) or
 * int64 (token ids, category indices for Gather/Embedding). The data layer holds every feature as float32, which
 * represents whole numbers up to 2^24 exactly, so int64 inputs get their batches converted when they are fed.
 */
import type { Dataset } from '../data/index.js';
import { RegraftError } from '../errors.js';
import { DataType, dtypeName } from '../ir/dtype.js';
import type { Model } from '../ir/model.js';
import type { Value } from '../ir/value.js';
import type { FeatureType } from '../runtime/tensors.js';

export type { FeatureType };

/** Largest whole number float32 holds exactly: ids beyond it would be rounded. */
const MAX_EXACT_ID = 2 ** 24;

const typeName = (v: Value): string => (v.elemType === undefined ? 'untyped' : dtypeName(v.elemType));

/** float32 for a FLOAT input, int64 for an INT64 one; other types are an error naming the input. */
export function featureTypeOf(input: Value, where: string): FeatureType {
  if (input.elemType === DataType.INT64) return 'int64';
  if (input.elemType === DataType.FLOAT || input.elemType === undefined) return 'float32';
  throw new RegraftError(`${where}: input '${input.name}' is ${typeName(input)}; regraft feeds float32 features or int64 ids`);
}

/** Features for an int64 input must be whole numbers float32 holds exactly; checked once, when the data is loaded. */
export function checkFeaturesFit(ds: Dataset, type: FeatureType, inputName: string): void {
  if (type !== 'int64') return;
  const f = ds.features;
  for (let i = 0; i < f.length; i++) {
    if (!Number.isInteger(f[i]) || Math.abs(f[i]) > MAX_EXACT_ID) {
      throw new RegraftError(
        `data '${ds.name}': feature ${f[i]} of sample ${Math.floor(i / Math.max(1, f.length / ds.size))} is not a whole number up to 2^24, but model input '${inputName}' takes int64 ids; give integer ids (save them as int64 NPY)`,
      );
    }
  }
}

/** The one input of a model file that must be fed (inputs with a stored initializer keep their stored value). */
export function featureInput(model: Model, modelPath: string): Value {
  const fed = model.graph.inputs.filter((v) => !v.initializer);
  const usable = fed.filter((v) => v.elemType === DataType.FLOAT || v.elemType === DataType.INT64);
  if (usable.length === 0) {
    const seen = fed.map((v) => `${v.name} (${typeName(v)})`).join(', ') || 'none';
    throw new RegraftError(`model ${modelPath} has no float32 or int64 input to take the features (inputs: ${seen}); evaluate a model whose input is FLOAT or INT64`);
  }
  const others = fed.filter((v) => v !== usable[0]);
  if (others.length > 0) {
    throw new RegraftError(
      `model ${modelPath} needs inputs besides '${usable[0].name}' (${others.map((v) => v.name).join(', ')}); evaluate an inference model (regraft strip or regraft export)`,
    );
  }
  return usable[0];
}
