/**
 * How `regraft eval` and `regraft train --test` print an evaluation: the text and `--json` forms of both scorings,
 * and the one-line summary.
 */
import type { EvalMetrics, Evaluation, RegressionMetrics } from '../evaluate/index.js';

/** The `--json` form: these keys in this order, one line, so scripts can rely on it. */
export function formatEvalJson(m: EvalMetrics): string {
  const num = (x: number) => JSON.stringify(x); // NaN / Infinity become null, as JSON has no such numbers
  const rows = m.confusion.map((row) => `[${row.join(', ')}]`).join(', ');
  const positions = m.positions === undefined ? '' : `, "positions": ${m.positions}`;
  const perplexity = m.perplexity === undefined ? '' : `, "perplexity": ${num(m.perplexity)}`;
  return `{"accuracy": ${num(m.accuracy)}, "loss": ${num(m.loss)}, "samples": ${m.samples}, "confusion": [${rows}]${positions}${perplexity}}`;
}

export function formatEvalText(m: EvalMetrics): string[] {
  return [
    `samples   ${m.samples}`,
    ...(m.positions === undefined ? [] : [`positions ${m.positions} (labelled positions that count; loss and accuracy are means over them)`]),
    `loss      ${m.loss.toFixed(4)}`,
    ...(m.perplexity === undefined ? [] : [`perplexity ${m.perplexity.toFixed(4)}`]),
    `accuracy  ${(m.accuracy * 100).toFixed(2)}%`,
    ...(m.confusion.length === 0
      ? [`confusion not shown: ${m.numClasses} classes`]
      : [`confusion (rows: true class, columns: predicted class)`, ...confusionTable(m.confusion)]),
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

/** The line `train --test` prints about the exported model. */
export function testLine(e: Evaluation, dataSpec: string): string {
  if (e.kind === 'regression') {
    const m = e.metrics;
    return `test ${m.lossKind} on ${dataSpec}: ${m.loss.toFixed(6)} (${regressionSummary(m)}, ${m.samples} samples)`;
  }
  const m = e.metrics;
  const perplexity = m.perplexity === undefined ? '' : `, perplexity ${m.perplexity.toFixed(4)}`;
  const positions = m.positions === undefined ? '' : `, ${m.positions} positions`;
  return `test accuracy on ${dataSpec}: ${(100 * m.accuracy).toFixed(2)}% (loss ${m.loss.toFixed(4)}${perplexity}, ${m.samples} samples${positions})`;
}
