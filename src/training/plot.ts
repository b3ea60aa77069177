/**
 * The loss curve of a run directory (loss.svg), drawn by the chart the tuning report uses, as a standalone file
 * (every style an attribute), so it renders the same in a browser, an image viewer or a CI artifact page.
 *
 * The training loss is drawn per optimizer step: the raw values faint, and over them an exponential moving average
 * debiased as TensorBoard's smoothing is (so the curve starts at the first value rather than at 0). Validation loss
 * is a point at the step that ended each epoch, on the same axis.
 */
import { renderChart, type ChartPoint } from '../util/svg-chart.js';
import type { EpochMetrics, StepRecord } from './run-dir.js';

export interface CurveSeries {
  name: string;
  points: { x: number; y: number }[];
}

export interface CurveChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
}

/** Colour-blind-safe palette (Okabe and Ito), cycled when there are more series. */
const COLORS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];

export function renderLossCurveSvg(series: CurveSeries[], opts: CurveChartOptions): string {
  return renderChart({
    title: opts.title,
    xLabel: opts.xLabel,
    yLabel: opts.yLabel,
    x: { kind: 'linear' },
    series: series.map((s, i) => ({ label: s.name, color: COLORS[i % COLORS.length], points: s.points, line: true })),
    width: opts.width ?? 560,
    height: opts.height ?? 340,
    standalone: true,
  });
}

/**
 * TensorBoard's scalar smoothing: `last = w * last + (1 - w) * v`, divided by `1 - w^k` after k values so that the
 * start is not pulled towards 0. Non-finite values pass through unsmoothed and leave the average alone.
 */
export function smoothEma(values: readonly number[], weight: number): number[] {
  let last = 0;
  let count = 0;
  return values.map((v) => {
    if (!Number.isFinite(v)) return v;
    last = last * weight + (1 - weight) * v;
    count++;
    return weight === 0 ? v : last / (1 - weight ** count);
  });
}

/**
 * The smoothing weight for a curve of `n` steps: TensorBoard's default 0.6 on short runs; on longer ones an average
 * over about 1/100 of the run (w = 1 - 100/n), so that the curve reads the same at 500 steps as at 50,000.
 */
export function smoothingWeight(n: number): number {
  return Math.max(0.6, 1 - 100 / Math.max(n, 1));
}

/** At most this many raw points are drawn: a polyline of a million steps would make a file of megabytes and show no more. */
const MAX_RAW_BUCKETS = 1000;

/**
 * The raw curve, thinned to at most MAX_RAW_BUCKETS buckets of consecutive steps, each drawn by its lowest and its
 * highest value in step order: the faint band keeps its true spread, spikes included.
 */
export function thinRaw(points: readonly ChartPoint[]): ChartPoint[] {
  if (points.length <= 2 * MAX_RAW_BUCKETS) return [...points];
  const size = points.length / MAX_RAW_BUCKETS;
  const out: ChartPoint[] = [];
  for (let b = 0; b < MAX_RAW_BUCKETS; b++) {
    const bucket = points.slice(Math.floor(b * size), Math.floor((b + 1) * size));
    let lo = bucket[0];
    let hi = bucket[0];
    for (const p of bucket) {
      if (p.y < lo.y) lo = p;
      if (p.y > hi.y) hi = p;
    }
    out.push(...(lo.x <= hi.x ? [lo, hi] : [hi, lo]));
  }
  return out;
}

/** loss.svg: training loss per step (raw and smoothed) and validation loss per epoch, over optimizer steps. */
export function renderLossPlot(metrics: readonly EpochMetrics[], steps: readonly StepRecord[]): string {
  const raw = steps.map((s) => ({ x: s.step, y: s.loss }));
  const smoothed = smoothEma(raw.map((p) => p.y), smoothingWeight(raw.length));
  // The smoothed curve at the same thinned steps: drawn at full resolution it would add nothing a reader sees.
  const every = Math.max(1, Math.floor(raw.length / (2 * MAX_RAW_BUCKETS)));
  const smoothPoints = raw.flatMap((p, i) => (i % every === 0 || i === raw.length - 1 ? [{ x: p.x, y: smoothed[i]! }] : []));
  const validation = metrics.filter((m) => m.val_loss !== undefined).map((m) => ({ x: m.step, y: m.val_loss as number, tip: `epoch ${m.epoch}, step ${m.step}: validation loss ${m.val_loss}` }));
  return renderChart({
    title: 'Loss',
    xLabel: 'optimizer step',
    yLabel: 'loss',
    x: { kind: 'linear' },
    y: { kind: 'log' },
    series: [
      { label: 'train loss (per step)', color: COLORS[0], points: thinRaw(raw), line: true, markers: false, strokeWidth: 1, opacity: 0.25, legend: false },
      { label: 'train loss (smoothed)', color: COLORS[0], points: smoothPoints, line: true, markers: false },
      { label: 'validation loss (per epoch)', color: COLORS[1], points: validation, line: true },
    ],
    width: 640,
    height: 360,
    standalone: true,
  });
}
