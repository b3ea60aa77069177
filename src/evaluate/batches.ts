/**
 * The batch loop every evaluation shares: run a session over a dataset (or the samples in `indices`, in that
 * order), one batch at a time, and hand each batch's output to the caller's scoring. Classification and regression
 * differ only in how they score; feeding, the output check and the errors are the same here for both.
 */
import type { Tensor } from '../runtime/onnxruntime.js';
import { BatchLoader, type Batch, type Dataset } from '../data/index.js';
import { RegraftError } from '../errors.js';
import type { Session } from '../runtime/index.js';
import { featureTensor } from '../runtime/tensors.js';
import type { FeatureType } from './feature-input.js';

export interface EvalOptions {
  /** The model input that takes the features. */
  inputName: string;
  /** The model output holding the logits, [N, C] (or, in a regression, the prediction). */
  outputName: string;
  /** Dims of one sample as the model wants them (from fitSampleShape). */
  sampleDims: number[];
  /** Samples per run, default 1000; the last batch may be smaller (the batch dim must be symbolic). */
  batchSize?: number;
  /** Evaluate only these samples (e.g. the validation side of a split), in this order. */
  indices?: Int32Array;
  /** Further feeds for every run, e.g. the current parameters of a model being trained. */
  extraFeeds?: Record<string, Tensor>;
  /** What the input takes (default float32; int64 for token ids). */
  inputType?: FeatureType;
}

export const DEFAULT_EVAL_BATCH_SIZE = 1000;

/**
 * Runs `session` on every batch and calls `score` with the batch's `outputName` output; `targetDims` shapes the
 * batches' float targets (regression). Returns the number of samples evaluated; none at all is an error.
 */
export async function evaluateInBatches(
  session: Session,
  ds: Dataset,
  opts: EvalOptions & { targetDims?: number[] },
  score: (output: Tensor, batch: Batch) => void,
): Promise<number> {
  const batchSize = opts.batchSize ?? DEFAULT_EVAL_BATCH_SIZE;
  const count = opts.indices?.length ?? ds.size;
  if (count === 0) throw new RegraftError(`nothing to evaluate: no samples of ${ds.name} were selected`);
  const loader = new BatchLoader(ds, { batchSize, seed: 0, shuffle: false, indices: opts.indices, sampleShape: opts.sampleDims, targetShape: opts.targetDims });
  for (const batch of loader.batches(0)) {
    const fetched = await session.run({ ...opts.extraFeeds, [opts.inputName]: featureTensor(batch.features, batch.featureDims, opts.inputType ?? 'float32') });
    const output = fetched[opts.outputName];
    if (output === undefined) {
      throw new RegraftError(`model ${session.name} has no output '${opts.outputName}'; its outputs are ${session.outputNames.join(', ')}`);
    }
    score(output, batch);
  }
  return count;
}
