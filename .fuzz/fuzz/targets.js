/**
 * What a fuzz case runs the mutated bytes through: the paths of `regraft inspect`, `convert` and `compile`, after
 * loading the file as the CLI does. A stage either passes or refuses the model with a RegraftError of one line; any
 * other throw (a TypeError, a RangeError from a huge allocation or a deep recursion) is a failure, and so is a
 * RegraftError whose message spans lines. Hangs, crashes and memory exhaustion are caught by the process pool.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatSummary, summarizeModel } from '../src/cli/inspect.js';
import { checkTrainable } from '../src/compile/trainability.js';
import { compileTrainStep } from '../src/compile/compile.js';
import { RegraftError } from '../src/errors.js';
import { loadModelWithInfo, modelToBytes, saveModel } from '../src/model-io.js';
import { upgradeOpset } from '../src/passes/upgrade-opset.js';
export const STAGES = ['load', 'inspect', 'convert', 'compile'];
/** Runs the stages on `bytes` (written to `folder/case.onnx`, as a user's file would be). */
export async function runStages(bytes, folder, opts) {
    const path = join(folder, 'case.onnx');
    await writeFile(path, bytes);
    const results = {};
    const stages = {
        load: async () => {
            await loadModelWithInfo(path);
        },
        inspect: async () => {
            const loaded = await loadModelWithInfo(path);
            const summary = summarizeModel(loaded);
            if (opts.trainable)
                summary.training = checkTrainable(loaded.model);
            JSON.stringify(summary);
            formatSummary(summary);
        },
        convert: async () => {
            const { model } = await loadModelWithInfo(path);
            await saveModel(model, join(folder, 'copy.onnx'));
            const upgrading = await loadModelWithInfo(path);
            if ((upgrading.model.graph.opset('') ?? 17) < 17) {
                upgradeOpset(upgrading.model, 17);
                modelToBytes(upgrading.model);
            }
        },
        compile: async () => {
            const { model } = await loadModelWithInfo(path);
            const step = compileTrainStep(model, { loss: opts.loss, optimizer: 'adam' });
            modelToBytes(step.model);
        },
    };
    for (const stage of STAGES) {
        try {
            await stages[stage]();
            results[stage] = 'passed';
        }
        catch (err) {
            const failure = classify(err, stage);
            if (failure)
                return { results, failure };
            results[stage] = 'refused';
            if (stage === 'load')
                break;
        }
    }
    return { results };
}
/** undefined for an acceptable refusal: a RegraftError of one line. */
function classify(err, stage) {
    const stack = err instanceof Error ? (err.stack ?? String(err)) : String(err);
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof RegraftError) {
        return message.includes('\n') || message.trim() === '' ? { stage, kind: 'multi-line error', message: message.split('\n')[0], stack } : undefined;
    }
    return { stage, kind: 'stack trace', message: `${err instanceof Error ? err.name : typeof err}: ${message.split('\n')[0]}`, stack };
}
