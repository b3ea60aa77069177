/**
 * Whether a model can be compiled into a training step as it is, found by compiling it (on a copy): the answer and
 * its reason are then exactly what `regraft compile` / `train` would meet, not a guess from op names.
 */
import { RegraftError, describeError } from '../errors.js';
import { cloneModel } from '../ir/clone.js';
import { compileTrainStep } from './compile.js';
export function checkTrainable(model) {
    try {
        // mse reads any float output; no optimizer keeps the check to the backward pass.
        const step = compileTrainStep(cloneModel(model), { loss: 'mse', optimizer: 'none' });
        return { trainable: step.params.length > 0, parameters: step.params.length, unrolled: step.decomposed?.length ?? 0, ...(step.params.length === 0 && { reason: 'no float initializer reaches the first output: nothing to train' }) };
    }
    catch (err) {
        // Only a refusal is an answer; anything else is a bug in regraft and must not pass as a reason.
        if (!(err instanceof RegraftError))
            throw err;
        return { trainable: false, parameters: 0, unrolled: 0, reason: describeError(err) };
    }
}
