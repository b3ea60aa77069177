/**
 * A small static SVG chart: points and lines on a linear, log or categorical x axis, with ticks, labels and a
 * legend. Self-contained (no scripts, no fonts, no external files), so it can be archived or attached to a pipeline
 * run as is. Hovering a point shows its <title>. Two uses draw with it: the charts of the tuning report (styled by
 * the page's style sheet, CHART_CSS) and a run directory's loss.svg (`standalone`: the same look written on the
 * elements, since a file of its own has no style sheet).
 */
import { escapeXml, finiteExtent, formatTick, niceScale, scaleFraction, svgCoord } from './svg-axis.js';

export interface ChartPoint {
  x: number;
  y: number;
  /** Tooltip text. */
  tip?: string;
}

export interface ChartSeries {
  label: string;
  color: string;
  points: ChartPoint[];
  /** Connect the points in order. */
  line?: boolean;
  /** Draw a circle at each point (default true). */
  markers?: boolean;
  /** The line's width (default 2) and opacity (default 1): raw values drawn faint under their smoothed curve. */
  strokeWidth?: number;
  opacity?: number;
  /** List the series in the legend (default true). */
  legend?: boolean;
}

export type XScale = { kind: 'linear' } | { kind: 'log' } | { kind: 'categorical'; categories: string[] };

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  x: XScale;
  /** Linear (default) or log; a log axis leaves out values <= 0. */
  y?: { kind: 'linear' } | { kind: 'log' };
  series: ChartSeries[];
  width?: number;
  height?: number;
  /** An SVG file of its own: styles as attributes and a white background, rather than classes of a page's style sheet. */
  standalone?: boolean;
}

/** The charts' look, one declaration list per styled part: CHART_CSS is made from it, and standalone charts write it as attributes. */
const LOOK = {
  text: { selector: 'text', declarations: { 'font-size': '11px', fill: '#333' } },
  title: { selector: '.chart-title', declarations: { 'font-size': '13px', 'font-weight': '600' } },
  plot: { selector: '.plot', declarations: { fill: '#fafafa', stroke: '#999' } },
  grid: { selector: '.grid', declarations: { stroke: '#e4e4e4' } },
} as const;

/** The style sheet a page embedding charts (the tuning report) needs for them. */
export const CHART_CSS = Object.values(LOOK)
  .map(({ selector, declarations }) => `svg ${selector}{${Object.entries(declarations).map(([k, v]) => `${k}:${v}`).join(';')}}`)
  .join('');

/** The parts styled by class on a page; the last three are hooks for pages and have no LOOK of their own. */
type StyledPart = 'title' | 'plot' | 'grid' | 'axis-label' | 'legend' | 'empty';
const CLASS_OF: Record<StyledPart, string> = { title: 'chart-title', plot: 'plot', grid: 'grid', 'axis-label': 'axis-label', legend: 'legend', empty: 'empty' };

const attributesOf = (declarations: Readonly<Record<string, string>>): string =>
  Object.entries(declarations).map(([k, v]) => `${k}="${v}"`).join(' ');

/** The attributes that style one part: its class, or (standalone) its LOOK declarations. */
function styleOf(part: StyledPart, standalone: boolean): string {
  if (!standalone) return `class="${CLASS_OF[part]}"`;
  return part === 'title' || part === 'plot' || part === 'grid' ? attributesOf(LOOK[part].declarations) : '';
}

const MARGIN = { left: 64, right: 16, top: 48, bottom: 48 };

export function renderChart(spec: ChartSpec): string {
  const width = spec.width ?? 480;
  const height = spec.height ?? 300;
  const standalone = spec.standalone ?? false;
  const style = (part: StyledPart) => styleOf(part, standalone);
  // The attributes of one element, empty ones left out (a standalone axis label has no style of its own).
  const attrs = (...parts: string[]) => parts.filter((p) => p !== '').join(' ');
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const yLog = spec.y?.kind === 'log';
  const drawable = (p: ChartPoint) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!yLog || p.y > 0) && (spec.x.kind !== 'log' || p.x > 0);
  const all = spec.series.flatMap((s) => s.points).filter(drawable);
  // Standalone, text inherits its font from the root, as the report's `svg text` rule gives it on the page.
  const root = standalone ? ` font-family="sans-serif" ${attributesOf(LOOK.text.declarations)}` : '';
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img"${root}>`,
    `<title>${escapeXml(spec.title)}</title>`,
    ...(standalone ? [`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`] : []),
    `<text ${attrs(`x="${width / 2}" y="18" text-anchor="middle"`, style('title'))}>${escapeXml(spec.title)}</text>`,
  ];
  if (all.length === 0) {
    parts.push(`<text ${attrs(`x="${width / 2}" y="${height / 2}" text-anchor="middle"`, style('empty'))}>no data yet</text>`, `</svg>`);
    return parts.join('');
  }

  const xAxis = makeXAxis(spec.x, all.map((p) => p.x));
  const yAxis = yLog ? logAxis(all.map((p) => p.y)) : linearAxis(all.map((p) => p.y));
  const px = (x: number) => MARGIN.left + xAxis.fraction(x) * plotW;
  const py = (y: number) => MARGIN.top + (1 - yAxis.fraction(y)) * plotH;

  parts.push(`<rect ${attrs(`x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}"`, style('plot'))}/>`);
  for (const t of yAxis.ticks) {
    const y = svgCoord(py(t.value));
    parts.push(`<line ${attrs(`x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y}" y2="${y}"`, style('grid'))}/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(t.label)}</text>`);
  }
  for (const t of xAxis.ticks) {
    const x = svgCoord(px(t.value));
    parts.push(`<line ${attrs(`x1="${x}" x2="${x}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}"`, style('grid'))}/>`);
    parts.push(`<text x="${x}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${escapeXml(t.label)}</text>`);
  }
  parts.push(`<text ${attrs(`x="${MARGIN.left + plotW / 2}" y="${height - 8}" text-anchor="middle"`, style('axis-label'))}>${escapeXml(spec.xLabel)}</text>`);
  parts.push(
    `<text ${attrs(`x="14" y="${MARGIN.top + plotH / 2}" text-anchor="middle"`, style('axis-label'), `transform="rotate(-90 14 ${MARGIN.top + plotH / 2})"`)}>` +
      `${escapeXml(spec.yLabel)}</text>`,
  );

  const legendEntries = spec.series.filter((s) => s.legend ?? true).length;
  let legendIndex = 0;
  spec.series.forEach((s) => {
    const pts = s.points.filter(drawable);
    // A line of one point draws nothing, but keeps one polyline per line series (its marker shows the point).
    if (s.line && pts.length > 0) {
      const d = pts.map((p) => `${svgCoord(px(p.x))},${svgCoord(py(p.y))}`).join(' ');
      const opacity = s.opacity !== undefined && s.opacity < 1 ? ` stroke-opacity="${s.opacity}"` : '';
      parts.push(`<polyline points="${d}" fill="none" stroke="${s.color}" stroke-width="${s.strokeWidth ?? 2}"${opacity} stroke-linejoin="round"/>`);
    }
    if (s.markers ?? true) {
      for (const p of pts) {
        parts.push(
          `<circle cx="${svgCoord(px(p.x))}" cy="${svgCoord(py(p.y))}" r="4" fill="${s.color}" fill-opacity="0.8">` +
            `<title>${escapeXml(p.tip ?? `${p.x}, ${p.y}`)}</title></circle>`,
        );
      }
    }
    if (!(s.legend ?? true)) return;
    // The legend runs in one row between the title and the plot, where it cannot hide a point.
    const lx = MARGIN.left + legendIndex++ * Math.floor(plotW / Math.max(legendEntries, 1));
    parts.push(`<rect x="${lx}" y="28" width="10" height="10" fill="${s.color}"/>`);
    parts.push(`<text ${attrs(`x="${lx + 14}" y="37"`, style('legend'))}>${escapeXml(s.label)}</text>`);
  });
  parts.push(`</svg>`);
  return parts.join('');
}

interface Axis {
  /** The value range the plot shows, padding included (in log10 units for a log axis). */
  domain: [number, number];
  fraction(v: number): number;
  ticks: { value: number; label: string }[];
}

function makeXAxis(scale: XScale, values: number[]): Axis {
  if (scale.kind === 'categorical') {
    const n = scale.categories.length;
    return {
      domain: [-0.5, n - 0.5],
      fraction: (v) => (v + 0.5) / Math.max(n, 1),
      ticks: scale.categories.map((label, i) => ({ value: i, label })),
    };
  }
  if (scale.kind === 'log') return logAxis(values.filter((v) => v > 0));
  return linearAxis(values);
}

/** Positions in log10 space; ticks at powers of ten, with 2x and 5x added when the data spans few decades. */
function logAxis(values: number[]): Axis {
  const logs = linearAxis(values.map(Math.log10));
  const [lo, hi] = [logs.domain[0], logs.domain[1]];
  const ticks: { value: number; label: string }[] = [];
  const decades = Math.floor(hi) - Math.ceil(lo) + 1;
  const mantissas = decades >= 3 ? [1] : decades >= 1 ? [1, 2, 5] : [1, 1.5, 2, 3, 5, 7];
  const every = Math.max(1, Math.ceil(decades / 6));
  for (let k = Math.floor(lo); k <= Math.ceil(hi); k++) {
    if ((k - Math.floor(lo)) % every !== 0) continue;
    for (const m of mantissas) {
      const value = m * 10 ** k;
      const at = Math.log10(value);
      if (at >= lo && at <= hi) ticks.push({ value, label: formatNumber(Number(value.toPrecision(2))) });
    }
  }
  return { domain: logs.domain, fraction: (v) => logs.fraction(Math.log10(v)), ticks };
}

/**
 * Padded by 5% of the span on each side, so that extreme points stay off the plot border; nice ticks inside, whole
 * numbers only when every value is one (trial numbers, epochs, batch sizes: no tick at trial 1.5).
 */
function linearAxis(values: number[]): Axis {
  const extent = finiteExtent(values) ?? [0, 1];
  const scale = niceScale(...extent, { pad: 0.05, integerStep: values.length > 0 && values.every(Number.isInteger) });
  return {
    domain: [scale.lo, scale.hi],
    fraction: (v) => scaleFraction(scale, v),
    ticks: scale.ticks.map((value) => ({ value, label: formatTick(value, scale.step) })),
  };
}

export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
  const abs = Math.abs(v);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}
