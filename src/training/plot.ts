/**
 * Line charts of training curves (loss and accuracy per epoch) as standalone SVG files for a run directory: every
 * style is an attribute, so the file renders the same in a browser, an image viewer or a CI artifact page.
 */

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
const MARGIN = { left: 64, right: 16, top: 56, bottom: 48 };
const FONT = 'font-family="sans-serif" font-size="11"';

interface Axis {
  lo: number;
  hi: number;
  ticks: number[];
}

export function renderLossCurveSvg(series: CurveSeries[], opts: CurveChartOptions): string {
  const width = opts.width ?? 560;
  const height = opts.height ?? 340;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const finite = series.map((s) => s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)));
  const all = finite.flat();
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<title>${escapeXml(opts.title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-family="sans-serif" font-size="14">${escapeXml(opts.title)}</text>`,
  ];
  if (all.length === 0) {
    parts.push(`<text x="${width / 2}" y="${height / 2}" text-anchor="middle" ${FONT} fill="#666666">no data</text>`, '</svg>');
    return parts.join('\n');
  }
  // Epochs are whole numbers: x ticks stay integers unless the data are not.
  const xAxis = niceAxis(all.map((p) => p.x), 0, all.every((p) => Number.isInteger(p.x)));
  const yAxis = niceAxis(all.map((p) => p.y), 0.05, false);
  const px = (x: number) => MARGIN.left + ((x - xAxis.lo) / (xAxis.hi - xAxis.lo)) * plotW;
  const py = (y: number) => MARGIN.top + (1 - (y - yAxis.lo) / (yAxis.hi - yAxis.lo)) * plotH;
  const bottom = MARGIN.top + plotH;

  parts.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999999"/>`);
  for (const t of yAxis.ticks) {
    const y = fmt(py(t));
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<line x1="${MARGIN.left - 4}" x2="${MARGIN.left}" y1="${y}" y2="${y}" stroke="#333333"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" ${FONT}>${formatTick(t)}</text>`);
  }
  for (const t of xAxis.ticks) {
    const x = fmt(px(t));
    parts.push(`<line x1="${x}" x2="${x}" y1="${bottom}" y2="${bottom + 4}" stroke="#333333"/>`);
    parts.push(`<text x="${x}" y="${bottom + 16}" text-anchor="middle" ${FONT}>${formatTick(t)}</text>`);
  }
  parts.push(`<text x="${MARGIN.left + plotW / 2}" y="${height - 8}" text-anchor="middle" ${FONT}>${escapeXml(opts.xLabel)}</text>`);
  const midY = MARGIN.top + plotH / 2;
  parts.push(`<text x="14" y="${midY}" text-anchor="middle" transform="rotate(-90 14 ${midY})" ${FONT}>${escapeXml(opts.yLabel)}</text>`);

  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = finite[i].map((p) => `${fmt(px(p.x))},${fmt(py(p.y))}`);
    if (pts.length > 0) {
      parts.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round"/>`);
    }
    // A lone point makes no visible line; the markers keep it (and every epoch) visible.
    for (const p of pts) {
      const [cx, cy] = p.split(',');
      parts.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${color}"/>`);
    }
    // Legend in one row between title and plot, where it cannot cover a curve.
    const lx = MARGIN.left + i * Math.floor(plotW / series.length);
    parts.push(`<line x1="${lx}" x2="${lx + 16}" y1="38" y2="38" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${lx + 20}" y="38" dominant-baseline="middle" ${FONT}>${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/**
 * A range covering the values, widened by `pad` of its span on each side, with about five ticks 1, 2 or 5 times
 * a power of ten apart. A single value gets a range around it.
 */
function niceAxis(values: number[], pad: number, integerTicks: boolean): Axis {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (lo === hi) {
    const half = Math.abs(lo) * 0.1 || 1;
    lo -= half;
    hi += half;
  }
  const span = hi - lo;
  lo -= span * pad;
  hi += span * pad;
  const rough = (hi - lo) / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  let step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  if (integerTicks) step = Math.max(1, Math.round(step));
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step); k * step <= hi + step * 1e-9; k++) ticks.push(Number((k * step).toPrecision(12)));
  return { lo, hi, ticks };
}

function formatTick(v: number): string {
  const abs = Math.abs(v);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return v.toExponential(1);
  return String(Number(v.toPrecision(6)));
}

function fmt(v: number): string {
  return v.toFixed(1);
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
