import type { Command } from 'commander';
import { loadModelWithInfo, saveModel } from '../model-io.js';
import { replaceHeadPass, type ReplaceHeadResult } from '../passes/replace-head.js';
import { runPass } from '../passes/runner.js';
import type { CliIo } from './context.js';
import { parseNumber } from './options.js';

export interface HeadFlags {
  output: string;
  classes: number;
  headOutput?: string;
  seed?: number;
}

/** The line `regraft head` prints, e.g. `replaced the head 'fc2': fc2.weight [10 x 128] -> [3 x 128], fc2.bias [10] -> [3]`. */
export function describeHead(r: ReplaceHeadResult): string {
  const bias = r.bias ? `, ${r.bias} [${r.before}] -> [${r.after}]` : '';
  return `replaced the head '${r.node}': ${r.weight} [${r.before} x ${r.features}] -> [${r.after} x ${r.features}]${bias} (freshly initialized, same names)`;
}

/** Loads MODEL, replaces its classifier head, validates and writes the result; returns the line to print. */
export async function runHead(modelPath: string, flags: HeadFlags): Promise<string> {
  const loaded = await loadModelWithInfo(modelPath);
  const model = loaded.model;
  const result = runPass(model, replaceHeadPass, { classes: flags.classes, output: flags.headOutput, seed: flags.seed });
  await saveModel(model, flags.output, { sourceExternalData: loaded.externalData });
  return describeHead(result);
}

/** `regraft head MODEL -o OUT --classes N`: a fresh classification layer of N classes, for fine-tuning. */
export function registerHead(program: Command, io: CliIo): void {
  program
    .command('head')
    .description('replace the final classification layer with a freshly initialized one of N classes (transfer learning)')
    .argument('<model>', 'ONNX model to read')
    .requiredOption('-o, --output <file>', 'where to write the rewritten model')
    .requiredOption('--classes <n>', 'the new number of classes', parseNumber('--classes', { integer: true, min: 1 }))
    // Not `--output`: in every regraft command that flag (-o) names the file written.
    .option('--head-output <name>', 'the graph output the classifier writes (default: the first graph output)')
    .option('--seed <n>', 'seed of the new weights (default 0)', parseNumber('--seed', { integer: true, min: 0 }))
    .action(async (modelPath: string, flags: HeadFlags) => {
      io.out(await runHead(modelPath, flags));
    });
}
