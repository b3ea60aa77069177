/**
 * The loss curve of a run directory (loss.svg): one line per series over the epochs, drawn by the chart the tuning
 * report uses, as a standalone file (every style an attribute), so it renders the same in a browser, an image viewer
 * or a CI artifact page.
 */
import { renderChart } from '../util/svg-chart.js';

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
