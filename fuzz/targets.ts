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
import type { LossKind } from '../src/compile/losses.js';
import { RegraftError } from '../src/errors.js';
import { loadModelWithInfo, modelToBytes, saveModel } from '../src/model-io.js';
import { upgradeOpset } from '../src/passes/upgrade-opset.js';

export const STAGES = ['load', 'inspect', 'convert', 'compile'] as const;
export type Stage = (typeof STAGES)[number];

/** How far a case got: per stage, passed or refused (a one-line RegraftError); stages after a refused load do not run. */
export type StageResults = Partial<Record<Stage, 'passed' | 'refused'>>;

export interface StageFailure {
  stage: Stage;
  kind: 'stack trace' | 'multi-line error';
  /** The error's first line, and its stack (for the report). */
  message: string;
  stack: string;
}

export interface TargetOptions {
  /** The loss compile uses. */
  loss: LossKind;
}

/** Runs the stages on `bytes` (written to `folder/case.onnx`, as a user's file would be). */
export async function runStages(bytes: Uint8Array, folder: string, opts: TargetOptions): Promise<{ results: StageResults; failure?: StageFailure }> {
  const path = join(folder, 'case.onnx');
  await writeFile(path, bytes);
  const results: StageResults = {};
  const stages: Record<Stage, () => Promise<void>> = {
    load: async () => {
      await loadModelWithInfo(path);
    },
    inspect: async () => {
      const loaded = await loadModelWithInfo(path);
      const summary = summarizeModel(loaded);
      // As `inspect --trainable`: a second compile, on a copy, whose refusal must be an answer, not a throw.
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
    } catch (err) {
      const failure = classify(err, stage);
      if (failure) return { results, failure };
      results[stage] = 'refused';
      if (stage === 'load') break;
    }
  }
  return { results };
}

/** undefined for an acceptable refusal: a RegraftError of one line. */
export function classify(err: unknown, stage: Stage): StageFailure | undefined {
  const stack = err instanceof Error ? (err.stack ?? String(err)) : String(err);
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof RegraftError) {
    return message.includes('\n') || message.trim() === '' ? { stage, kind: 'multi-line error', message: message.split('\n')[0], stack } : undefined;
  }
  return { stage, kind: 'stack trace', message: `${err instanceof Error ? err.name : typeof err}: ${message.split('\n')[0]}`, stack };
}
