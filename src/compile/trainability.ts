/**
 * Whether a model can be compiled into a training step as it is, found by compiling it (on a copy): the answer and
 * its reason are then exactly what `regraft compile` / `train` would meet, not a guess from op names.
 */
import { RegraftError, describeError } from '../errors.js';
import { cloneModel } from '../ir/clone.js';
import type { Model } from '../ir/model.js';
import { compileTrainStep } from './compile.js';

export interface Trainability {
  trainable: boolean;
  /** Trainable parameter tensors (float initializers the first output depends on). */
  parameters: number;
  /** Recurrent layers compile would unroll. */
  unrolled: number;
  /** The trained tensors by name (tied copies train as their parameter and are not listed). */
  trained: string[];
  /** Parameters the loss does not reach (kept fixed). */
  untrainable: string[];
  /** Why not, as compile says it (one line, naming the node and what to do). */
  reason?: string;
}

export function checkTrainable(model: Model): Trainability {
  try {
    // mse reads any float output; no optimizer keeps the check to the backward pass.
    const step = compileTrainStep(cloneModel(model), { loss: 'mse', optimizer: 'none' });
    return {
      trainable: step.params.length > 0,
      parameters: step.params.length,
      unrolled: step.decomposed?.length ?? 0,
      trained: step.params,
      untrainable: step.untrainable,
      ...(step.params.length === 0 && { reason: 'no float initializer reaches the first output: nothing to train' }),
    };
  } catch (err) {
    // Only a refusal is an answer; anything else is a bug in regraft and must not pass as a reason.
    if (!(err instanceof RegraftError)) throw err;
    return { trainable: false, parameters: 0, unrolled: 0, trained: [], untrainable: [], reason: describeError(err) };
  }
}
