import type { Command } from 'commander';
import { evaluateModelFile, type EvalMetrics } from '../training/evaluate.js';
import type { CliIo } from './context.js';
import { parseNumber } from './options.js';

/** The `--json` form: these keys in this order, one line, so scripts can rely on it. */
export function formatEvalJson(m: EvalMetrics): string {
  const num = (x: number) => JSON.stringify(x); // NaN / Infinity become null, as JSON has no such numbers
  const rows = m.confusion.map((row) => `[${row.join(', ')}]`).join(', ');
  return `{"accuracy": ${num(m.accuracy)}, "loss": ${num(m.loss)}, "samples": ${m.samples}, "confusion": [${rows}]}`;
}

export function formatEvalText(m: EvalMetrics): string[] {
  return [
    `samples   ${m.samples}`,
    `loss      ${m.loss.toFixed(4)}`,
    `accuracy  ${(m.accuracy * 100).toFixed(2)}%`,
    `confusion (rows: true class, columns: predicted class)`,
    ...confusionTable(m.confusion),
  ];
}

/** Right-aligned columns as wide as the largest count or class index. */
export function confusionTable(confusion: number[][]): string[] {
  const n = confusion.length;
  const width = Math.max(String(n - 1).length, ...confusion.flat().map((c) => String(c).length));
  const header = ' '.repeat(width) + ' |' + confusion.map((_, c) => ' ' + String(c).padStart(width)).join('');
  const rule = '-'.repeat(width) + '-+' + '-'.repeat((width + 1) * n);
  const rows = confusion.map((row, r) => String(r).padStart(width) + ' |' + row.map((c) => ' ' + String(c).padStart(width)).join(''));
  return [header, rule, ...rows];
}

export function registerEval(program: Command, io: CliIo): void {
  program
    .command('eval')
    .description('score a classifier on labelled data: mean cross-entropy, accuracy and confusion matrix')
    .argument('<model>', 'ONNX model file (one float input, logits [N, C] output)')
    .requiredOption('--data <spec>', 'data spec: mnist, mnist:test, idx:IMAGES,LABELS, npy:FEATURES,LABELS or csv:PATH')
    .option('--json', 'print {"accuracy", "loss", "samples", "confusion"} as JSON')
    .option('--batch-size <n>', 'samples per run (default 1000)', parseNumber('--batch-size', { min: 1, integer: true }))
    .option('--output <name>', 'the output holding the logits (default: the first output)')
    .action(async (model: string, opts: { data: string; json?: boolean; batchSize?: number; output?: string }) => {
      const metrics = await evaluateModelFile(model, opts.data, { batchSize: opts.batchSize, output: opts.output });
      if (opts.json) io.out(formatEvalJson(metrics));
      else formatEvalText(metrics).forEach((line) => io.out(line));
    });
}
