/**
 * A small static SVG chart: points and lines on a linear, log or categorical x axis, with ticks, labels and a
 * legend. Enough for the tuning report, and self-contained (no scripts, no fonts, no external files), so the page
 * can be archived or attached to a pipeline run as is. Hovering a point shows its <title>.
 */
import { escapeXml, finiteExtent, formatTick, niceScale, scaleFraction, svgCoord } from '../util/svg-axis.js';

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
}

export type XScale = { kind: 'linear' } | { kind: 'log' } | { kind: 'categorical'; categories: string[] };

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  x: XScale;
  series: ChartSeries[];
  width?: number;
  height?: number;
}

const MARGIN = { left: 64, right: 16, top: 48, bottom: 48 };

export function renderChart(spec: ChartSpec): string {
  const width = spec.width ?? 480;
  const height = spec.height ?? 300;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const all = spec.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img">`,
    `<title>${escapeXml(spec.title)}</title>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" class="chart-title">${escapeXml(spec.title)}</text>`,
  ];
  if (all.length === 0) {
    parts.push(`<text x="${width / 2}" y="${height / 2}" text-anchor="middle" class="empty">no data yet</text>`, `</svg>`);
    return parts.join('');
  }

  const xAxis = makeXAxis(spec.x, all.map((p) => p.x));
  const yAxis = linearAxis(all.map((p) => p.y));
  const px = (x: number) => MARGIN.left + xAxis.fraction(x) * plotW;
  const py = (y: number) => MARGIN.top + (1 - yAxis.fraction(y)) * plotH;

  parts.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" class="plot"/>`);
  for (const t of yAxis.ticks) {
    const y = svgCoord(py(t.value));
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y}" y2="${y}" class="grid"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(t.label)}</text>`);
  }
  for (const t of xAxis.ticks) {
    const x = svgCoord(px(t.value));
    parts.push(`<line x1="${x}" x2="${x}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" class="grid"/>`);
    parts.push(`<text x="${x}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${escapeXml(t.label)}</text>`);
  }
  parts.push(`<text x="${MARGIN.left + plotW / 2}" y="${height - 8}" text-anchor="middle" class="axis-label">${escapeXml(spec.xLabel)}</text>`);
  parts.push(
    `<text x="14" y="${MARGIN.top + plotH / 2}" text-anchor="middle" class="axis-label" ` +
      `transform="rotate(-90 14 ${MARGIN.top + plotH / 2})">${escapeXml(spec.yLabel)}</text>`,
  );

  spec.series.forEach((s, i) => {
    const pts = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
    if (s.line && pts.length > 1) {
      const d = pts.map((p) => `${svgCoord(px(p.x))},${svgCoord(py(p.y))}`).join(' ');
      parts.push(`<polyline points="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    }
    if (s.markers ?? true) {
      for (const p of pts) {
        parts.push(
          `<circle cx="${svgCoord(px(p.x))}" cy="${svgCoord(py(p.y))}" r="4" fill="${s.color}" fill-opacity="0.8">` +
            `<title>${escapeXml(p.tip ?? `${p.x}, ${p.y}`)}</title></circle>`,
        );
      }
    }
    // The legend runs in one row between the title and the plot, where it cannot hide a point.
    const lx = MARGIN.left + i * Math.floor(plotW / Math.max(spec.series.length, 1));
    parts.push(`<rect x="${lx}" y="28" width="10" height="10" fill="${s.color}"/>`);
    parts.push(`<text x="${lx + 14}" y="37" class="legend">${escapeXml(s.label)}</text>`);
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
