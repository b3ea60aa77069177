import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { evaluateFile } from '../evaluate/index.js';
import { LOSS_KINDS, type ClassAxis, type LossKind } from '../compile/losses.js';
import { settingOption } from './flags.js';
import type { CliIo } from './context.js';
import { formatEvalJson, formatEvalText, formatRegressionJson, formatRegressionText } from './evaluation-format.js';
import { parseChoice, parseNumber } from './options.js';

export function registerEval(program: Command, io: CliIo): void {
  program
    .command('eval')
    .description('score a model on labelled data: a classifier (cross-entropy, accuracy, confusion matrix) or, with --loss, a regression model')
    .argument('<model>', 'ONNX model file (logits [N, C], [N, C, d...] or [N, T, V]; with a regression --loss a prediction shaped like the targets)')
    .requiredOption('--data <spec>', 'data spec: mnist, mnist:test, idx:IMAGES,LABELS, npy:FEATURES,LABELS, csv:PATH, or named arrays for a model with several inputs: npz:FILE.npz, npy:input_ids=ids.npy,...,labels=y.npy')
    .option('--loss <kind>', `${LOSS_KINDS.join(', ')} (default cross-entropy); the others read the labels as float targets`, parseChoice('--loss', LOSS_KINDS))
    .addOption(settingOption('classAxis'))
    .addOption(settingOption('ignoreIndex'))
    .option('--json', 'print {"accuracy", "loss", "samples", "confusion"} as JSON (labels per position add "positions", causal-lm "perplexity") (with --loss: {"loss", "lossKind", "mae", "rmse" or "accuracy", "samples"})')
    .option('--batch-size <n>', 'samples per run (default 1000)', parseNumber('--batch-size', { min: 1, integer: true }))
    .option('--target <output>', 'the output to score (default: the first output), as train and compile name it')
    .option('--output <name>', 'the same as --target (kept for scripts written before it)')
    .action(async (model: string, opts: { data: string; loss?: LossKind; json?: boolean; batchSize?: number; target?: string; output?: string; classAxis?: ClassAxis; ignoreIndex?: number }) => {
      if (opts.target !== undefined && opts.output !== undefined && opts.target !== opts.output) {
        throw new UsageError(`eval: --target ${opts.target} and --output ${opts.output} name different outputs; give one`);
      }
      const evaluation = await evaluateFile(model, opts.data, {
        batchSize: opts.batchSize,
        output: opts.target ?? opts.output,
        loss: opts.loss,
        classAxis: opts.classAxis,
        ignoreIndex: opts.ignoreIndex,
      });
      if (evaluation.kind === 'regression') {
        if (opts.json) io.out(formatRegressionJson(evaluation.metrics));
        else formatRegressionText(evaluation.metrics).forEach((line) => io.out(line));
        return;
      }
      if (opts.json) io.out(formatEvalJson(evaluation.metrics));
      else formatEvalText(evaluation.metrics).forEach((line) => io.out(line));
    });
}
