import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { evaluateModelFile, type EvalMetrics } from '../training/evaluate.js';
import { evaluateTargetsFile, isRegressionLoss, type RegressionMetrics } from '../training/evaluate-targets.js';
import { LOSS_KINDS, type LossKind } from '../compile/losses.js';
import type { CliIo } from './context.js';
import { parseChoice, parseNumber } from './options.js';

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

/** The regression `--json` form: the loss, then whichever of mae, rmse, accuracy the loss kind reports. */
export function formatRegressionJson(m: RegressionMetrics): string {
  const extra = (['mae', 'rmse', 'accuracy'] as const).filter((k) => m[k] !== undefined).map((k) => `, "${k}": ${JSON.stringify(m[k])}`);
  return `{"loss": ${JSON.stringify(m.loss)}, "lossKind": "${m.lossKind}"${extra.join('')}, "samples": ${m.samples}}`;
}

export function formatRegressionText(m: RegressionMetrics): string[] {
  const lines = [`samples   ${m.samples}`, `loss      ${m.loss.toFixed(6)} (${m.lossKind})`];
  if (m.accuracy !== undefined) lines.push(`accuracy  ${(m.accuracy * 100).toFixed(2)}%`);
  if (m.mae !== undefined) lines.push(`mae       ${m.mae.toPrecision(6)}`);
  if (m.rmse !== undefined) lines.push(`rmse      ${m.rmse.toPrecision(6)}`);
  return lines;
}

/** `mae 0.0123, rmse 0.0456` or `accuracy 97.50%`, for one-line reports. */
export function regressionSummary(m: RegressionMetrics): string {
  return m.accuracy !== undefined ? `accuracy ${(100 * m.accuracy).toFixed(2)}%` : `mae ${m.mae!.toPrecision(4)}, rmse ${m.rmse!.toPrecision(4)}`;
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
    .description('score a model on labelled data: a classifier (cross-entropy, accuracy, confusion matrix) or, with --loss, a regression model')
    .argument('<model>', 'ONNX model file (one float input; logits [N, C], or with --loss a prediction shaped like the targets)')
    .requiredOption('--data <spec>', 'data spec: mnist, mnist:test, idx:IMAGES,LABELS, npy:FEATURES,LABELS or csv:PATH')
    .option('--loss <kind>', `${LOSS_KINDS.join(', ')} (default cross-entropy); the others read the labels as float targets`, parseChoice('--loss', LOSS_KINDS))
    .option('--json', 'print {"accuracy", "loss", "samples", "confusion"} as JSON (with --loss: {"loss", "lossKind", "mae", "rmse" or "accuracy", "samples"})')
    .option('--batch-size <n>', 'samples per run (default 1000)', parseNumber('--batch-size', { min: 1, integer: true }))
    .option('--target <output>', 'the output to score (default: the first output), as train and compile name it')
    .option('--output <name>', 'the same as --target (kept for scripts written before it)')
    .action(async (model: string, opts: { data: string; loss?: LossKind; json?: boolean; batchSize?: number; target?: string; output?: string }) => {
      if (opts.target !== undefined && opts.output !== undefined && opts.target !== opts.output) {
        throw new UsageError(`eval: --target ${opts.target} and --output ${opts.output} name different outputs; give one`);
      }
      const common = { batchSize: opts.batchSize, output: opts.target ?? opts.output };
      if (opts.loss !== undefined && isRegressionLoss(opts.loss)) {
        const m = await evaluateTargetsFile(model, opts.data, { ...common, loss: opts.loss });
        if (opts.json) io.out(formatRegressionJson(m));
        else formatRegressionText(m).forEach((line) => io.out(line));
        return;
      }
      const metrics = await evaluateModelFile(model, opts.data, common);
      if (opts.json) io.out(formatEvalJson(metrics));
      else formatEvalText(metrics).forEach((line) => io.out(line));
    });
}
