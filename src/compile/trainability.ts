/**
 * Whether a model can be compiled into a training step as it is, found by compiling it (on a copy): the answer and
 * its reason are then exactly what `regraft compile` / `train` would meet, not a guess from op names.
 */
import { RegraftError, describeError } from '../errors.js';
import { cloneModel } from '../ir/clone.js';
import type { Model } from '../ir/model.js';
import { recurrenceLengthDims } from '../passes/decompose-rnn.js';
import { compileTrainStep } from './compile.js';

export interface Trainability {
  trainable: boolean;
  /** Trainable parameter tensors (float initializers the first output depends on). */
  parameters: number;
  /** Recurrent layers compile would unroll. */
  unrolled: number;
  /** Dynamic dims a step is compiled for one size of (recurrent layers' sequence lengths: `compile --dim`). */
  fixedPerStep: string[];
  /** The trained tensors by name (tied copies train as their parameter and are not listed). */
  trained: string[];
  /** Parameters the loss does not reach (kept fixed). */
  untrainable: string[];
  /** Why not, as compile says it (one line, naming the node and what to do). */
  reason?: string;
}

export function checkTrainable(model: Model): Trainability {
  try {
    // mse reads any float output; no optimizer keeps the check to the backward pass. A recurrent layer over a
    // dynamic sequence axis is unrolled for one length per step: checked at 2, the fewest steps that recur.
    const fixedPerStep = recurrenceLengthDims(model);
    const dims = Object.fromEntries(fixedPerStep.map((d) => [d, 2]));
    const step = compileTrainStep(cloneModel(model), { loss: 'mse', optimizer: 'none', dims });
    return {
      trainable: step.params.length > 0,
      parameters: step.params.length,
      unrolled: step.decomposed?.length ?? 0,
      fixedPerStep,
      trained: step.params,
      untrainable: step.untrainable,
      ...(step.params.length === 0 && { reason: 'no float initializer reaches the first output: nothing to train' }),
    };
  } catch (err) {
    // Only a refusal is an answer; anything else is a bug in regraft and must not pass as a reason.
    if (!(err instanceof RegraftError)) throw err;
    return { trainable: false, parameters: 0, unrolled: 0, fixedPerStep: [], trained: [], untrainable: [], reason: describeError(err) };
  }
}
