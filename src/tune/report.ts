/**
 * Reading a study: trials ranked best first, as a terminal table, as JSON for pipelines, and as one self-contained
 * HTML page with inline SVG charts (objective over trials with the best so far, objective against each parameter,
 * learning curves of the best five trials, and the ranked table).
 */
import { escapeXml } from '../util/svg-axis.js';
import type { StudySnapshot } from './snapshot.js';
import type { ParamSpec } from './space.js';
import { CHART_CSS, formatNumber, renderChart, type ChartSeries, type XScale } from '../util/svg-chart.js';
import { paramImportances, type ParamImportance } from './importance.js';
import { parallelCoordinates } from './parallel-coordinates.js';
import type { ParamValue, Params, TrialRecord, TrialStatus } from './types.js';

export interface RankedTrial {
  /** 1 for the best trial. */
  rank: number;
  trialId: number;
  status: TrialStatus;
  objective: number | null;
  params: Params;
  /** Epochs the trial reported. */
  epochs: number;
  /** The error of a failed trial, or the note of an interrupted or rerun one. */
  detail: string | null;
}

const STATUS_ORDER: TrialStatus[] = ['complete', 'pruned', 'failed', 'interrupted', 'running', 'queued'];

/** Complete trials by objective, then pruned ones by the value they were stopped at, then everything else. */
export function rankTrials(study: StudySnapshot): RankedTrial[] {
  const sign = study.config.objective.mode === 'max' ? -1 : 1;
  const score = (t: TrialRecord) => (t.objective === null ? Infinity : sign * t.objective);
  const sorted = [...study.trials].sort(
    (a, b) => STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status) || score(a) - score(b) || a.id - b.id,
  );
  return sorted.map((t, i) => ({
    rank: i + 1,
    trialId: t.id,
    status: t.status,
    objective: t.objective,
    params: t.params,
    epochs: t.epochs.length,
    detail: t.error ?? t.note,
  }));
}

/** A plain-text table for the terminal; long errors are cut to keep one row per line. */
export function formatTable(rows: readonly RankedTrial[], opts: { objectiveLabel?: string } = {}): string {
  const paramNames = [...new Set(rows.flatMap((r) => Object.keys(r.params)))];
  const header = ['rank', 'trial', 'status', opts.objectiveLabel ?? 'objective', 'epochs run', ...paramNames, 'detail'];
  const body = rows.map((r) => [
    String(r.rank),
    String(r.trialId),
    r.status,
    r.objective === null ? '-' : formatNumber(r.objective),
    String(r.epochs),
    ...paramNames.map((n) => formatParam(r.params[n])),
    truncate(r.detail ?? '', 60),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

export interface StudyReportJson {
  name: string;
  objective: { metric: string; mode: string };
  strategy: string;
  trialsPlanned: number;
  counts: Record<string, number>;
  best: { trialId: number; objective: number; params: Params } | null;
  /** Searched parameters by importance (see importance.ts), most important first. */
  importances: ParamImportance[];
  trials: (RankedTrial & { metrics: Record<string, number>; curve: { epoch: number; metrics: Record<string, number> }[] })[];
}

/** The study as plain data, best trial first: what a pipeline step reads to pick parameters. */
export function reportJson(study: StudySnapshot): StudyReportJson {
  const rows = rankTrials(study);
  const byId = new Map(study.trials.map((t) => [t.id, t]));
  const counts: Record<string, number> = {};
  for (const t of study.trials) counts[t.status] = (counts[t.status] ?? 0) + 1;
  const best = rows.find((r) => r.status === 'complete' && r.objective !== null);
  return {
    name: study.name,
    objective: study.config.objective,
    strategy: study.config.strategy.name,
    trialsPlanned: study.config.trials,
    counts,
    best: best ? { trialId: best.trialId, objective: best.objective as number, params: best.params } : null,
    importances: paramImportances(study, searchedParams(study)),
    trials: rows.map((r) => {
      const t = byId.get(r.trialId) as TrialRecord;
      return { ...r, metrics: t.metrics, curve: t.epochs };
    }),
  };
}

const STATUS_COLORS: Record<string, string> = { complete: '#1f77b4', pruned: '#ff7f0e', failed: '#d62728' };
const CURVE_COLORS = ['#1f77b4', '#2ca02c', '#9467bd', '#8c564b', '#e377c2'];

export function renderHtmlReport(study: StudySnapshot): string {
  const { metric, mode } = study.config.objective;
  const rows = rankTrials(study);
  const fixed = fixedParams(study);
  const charts = [objectiveOverTrials(study), ...objectiveByParameter(study, fixed), learningCurves(study, rows)];
  // A column in which every row says the same thing only widens the table: fixed values are stated once above it.
  const paramNames = [...new Set(rows.flatMap((r) => Object.keys(r.params)))].filter((n) => !fixed.has(n));
  const tableRows = rows.map((r) =>
    `<tr class="${r.status}"><td>${r.rank}</td><td>${r.trialId}</td><td>${r.status}</td>` +
      `<td>${r.objective === null ? '-' : escapeXml(formatNumber(r.objective))}</td><td>${r.epochs}</td>` +
      paramNames.map((n) => `<td>${escapeXml(formatParam(r.params[n]))}</td>`).join('') +
      `<td>${escapeXml(r.detail ?? '')}</td></tr>`);
  const best = rows.find((r) => r.status === 'complete');
  const title = `regraft tuning report: ${study.name}`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8"/>',
    '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
    `<title>${escapeXml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<h1>${escapeXml(title)}</h1>`,
    `<p>Objective: ${escapeXml(metric)} (${mode === 'max' ? 'maximize' : 'minimize'}); strategy ${escapeXml(study.config.strategy.name)}; ` +
      `${study.trials.length} of ${study.config.trials} trials; created ${escapeXml(study.created)}.</p>`,
    best
      ? `<p class="best">Best: trial ${best.trialId}, ${escapeXml(metric)} = ${escapeXml(formatNumber(best.objective as number))} with ` +
        `${escapeXml(Object.entries(best.params).map(([k, v]) => `${k}=${formatParam(v)}`).join(', '))}.</p>`
      : '<p class="best">No trial has completed yet.</p>',
    `<div class="charts">${charts.map((c) => `<figure>${c}</figure>`).join('')}</div>`,
    '<h2>Trials, best first</h2>',
    ...(fixed.size > 0
      ? [`<p class="fixed">Fixed: ${escapeXml([...fixed].map(([k, v]) => `${k} = ${formatParam(v)}`).join(', '))}</p>`]
      : []),
    '<table>',
    `<thead><tr><th>rank</th><th>trial</th><th>status</th><th>${escapeXml(metric)}</th><th>epochs run</th>` +
      `${paramNames.map((n) => `<th>${escapeXml(n)}</th>`).join('')}<th>detail</th></tr></thead>`,
    `<tbody>${tableRows.join('')}</tbody>`,
    '</table>',
    ...parameterSection(study),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** The parameters a study searches over: its space without the entries fixed in every trial. */
export function searchedParams(study: StudySnapshot): string[] {
  const fixed = fixedParams(study);
  return Object.keys(study.config.space).filter((n) => !fixed.has(n));
}

/** Importances as a table of bars (plain HTML), then the parallel-coordinates chart. */
function parameterSection(study: StudySnapshot): string[] {
  const names = searchedParams(study);
  if (names.length === 0) return [];
  const importances = paramImportances(study, names);
  const rows = importances.map((r) =>
    `<tr><td>${escapeXml(r.name)}</td><td class="bar"><span style="width:${(r.importance * 100).toFixed(1)}%"></span></td><td>${r.importance.toFixed(3)}</td></tr>`);
  const chart = parallelCoordinates(study, names);
  return [
    '<h2>Parameter importances</h2>',
    importances.length > 0
      ? `<table class="importances"><thead><tr><th>parameter</th><th>share of the objective's variance</th><th>importance</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
      : '<p class="importances">Needs at least two complete trials.</p>',
    ...(chart ? [`<figure class="parallel">${chart}</figure>`] : []),
  ];
}

function withObjective(study: StudySnapshot): TrialRecord[] {
  return study.trials.filter((t) => (t.status === 'complete' || t.status === 'pruned') && t.objective !== null);
}

function objectiveOverTrials(study: StudySnapshot): string {
  const { metric, mode } = study.config.objective;
  const scored = withObjective(study);
  const series: ChartSeries[] = (['complete', 'pruned'] as const).map((status) => ({
    label: status,
    color: STATUS_COLORS[status],
    points: scored.filter((t) => t.status === status).map((t) => ({ x: t.id, y: t.objective as number, tip: tip(t) })),
  }));
  const bestSoFar: ChartSeries = { label: 'best so far', color: '#444', line: true, markers: false, points: [] };
  let best: number | null = null;
  for (const t of scored.filter((t) => t.status === 'complete').sort((a, b) => a.id - b.id)) {
    const v = t.objective as number;
    if (best === null || (mode === 'max' ? v > best : v < best)) best = v;
    bestSoFar.points.push({ x: t.id, y: best });
  }
  return renderChart({ title: `${metric} by trial`, xLabel: 'trial', yLabel: metric, x: { kind: 'linear' }, series: [...series, bestSoFar] });
}

/**
 * The parameters every trial of the study ran with one and the same value, in search-space order: entries that allow
 * a single value (a constant, one categorical choice, a range whose ends meet). The value shown is the one the
 * trials ran with (exp(log(x)) need not give back x exactly); when the trials disagree (a study file whose space was
 * edited between runs), the parameter is not fixed.
 */
export function fixedParams(study: StudySnapshot): Map<string, ParamValue> {
  const fixed = new Map<string, ParamValue>();
  for (const [name, spec] of Object.entries(study.config.space)) {
    const only = singleValue(spec);
    if (only === undefined) continue;
    const used = new Set(study.trials.map((t) => t.params[name]).filter((v) => v !== undefined));
    if (used.size > 1) continue;
    fixed.set(name, used.size === 1 ? ([...used][0] as ParamValue) : only);
  }
  return fixed;
}

/** The one value a search-space entry allows, or undefined when it allows more. */
function singleValue(spec: ParamSpec): ParamValue | undefined {
  switch (spec.kind) {
    case 'fixed':
      return spec.value;
    case 'categorical':
      return spec.choices.length === 1 ? spec.choices[0] : undefined;
    case 'float':
      return spec.low === spec.high ? spec.low : undefined;
    case 'int':
      return spec.high - spec.low < spec.step ? spec.low : undefined;
  }
}

function objectiveByParameter(study: StudySnapshot, fixed: ReadonlyMap<string, ParamValue>): string[] {
  const { metric } = study.config.objective;
  const scored = withObjective(study);
  return Object.entries(study.config.space)
    .filter(([name]) => !fixed.has(name))
    .map(([name, spec]) => {
      let x: XScale = { kind: (spec.kind === 'float' || spec.kind === 'int') && spec.log ? 'log' : 'linear' };
      let position = (v: ParamValue) => Number(v);
      if (spec.kind === 'categorical') {
        const labels = spec.choices.map(String);
        x = { kind: 'categorical', categories: labels };
        position = (v) => labels.indexOf(String(v));
      }
      const series: ChartSeries[] = (['complete', 'pruned'] as const).map((status) => ({
        label: status,
        color: STATUS_COLORS[status],
        points: scored
          .filter((t) => t.status === status && t.params[name] !== undefined)
          .map((t) => ({ x: position(t.params[name]), y: t.objective as number, tip: tip(t) })),
      }));
      const scale = x.kind === 'log' ? ' (log scale)' : '';
      return renderChart({ title: `${metric} vs ${name}`, xLabel: `${name}${scale}`, yLabel: metric, x, series });
    });
}

function learningCurves(study: StudySnapshot, rows: readonly RankedTrial[]): string {
  const metric = study.config.pruner?.metric ?? study.config.objective.metric;
  const byId = new Map(study.trials.map((t) => [t.id, t]));
  const top = rows.filter((r) => r.status === 'complete').slice(0, 5).map((r) => byId.get(r.trialId) as TrialRecord);
  const series: ChartSeries[] = top.map((t, i) => ({
    label: `trial ${t.id}`,
    color: CURVE_COLORS[i % CURVE_COLORS.length],
    line: true,
    points: t.epochs
      .filter((e) => typeof e.metrics[metric] === 'number')
      .map((e) => ({ x: e.epoch, y: e.metrics[metric], tip: `trial ${t.id}, epoch ${e.epoch}: ${formatNumber(e.metrics[metric])}` })),
  }));
  return renderChart({ title: `Learning curves of the best ${top.length} trials`, xLabel: 'epoch', yLabel: metric, x: { kind: 'linear' }, series });
}

function tip(t: TrialRecord): string {
  const params = Object.entries(t.params).map(([k, v]) => `${k}=${formatParam(v)}`).join(', ');
  return `trial ${t.id} (${t.status}): ${formatNumber(t.objective as number)}; ${params}`;
}

function formatParam(v: ParamValue | undefined): string {
  if (v === undefined) return '';
  return typeof v === 'number' ? formatNumber(v) : String(v);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

const STYLE = [
  'body{font-family:system-ui,sans-serif;margin:24px;color:#222}',
  '.charts{display:flex;flex-wrap:wrap;gap:8px}',
  'figure{margin:0;border:1px solid #ddd;background:#fff}',
  CHART_CSS,
  'table{border-collapse:collapse;font-size:13px;margin-top:8px}',
  'th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}',
  'th{background:#f0f0f0}',
  'tr.failed td{color:#b00}',
  'tr.pruned td{color:#a60}',
  'table.importances td.bar{width:240px;text-align:left}',
  'table.importances td.bar span{display:inline-block;height:10px;background:#1f77b4}',
  'figure.parallel{margin-top:8px;display:inline-block}',
].join('');
