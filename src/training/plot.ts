/**
 * Line charts of training curves (loss and accuracy per epoch) as standalone SVG files for a run directory: every
 * style is an attribute, so the file renders the same in a browser, an image viewer or a CI artifact page.
 */
import { escapeXml, finiteExtent, formatTick, niceScale, scaleFraction, svgCoord } from '../util/svg-axis.js';

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

export function renderLossCurveSvg(series: CurveSeries[], opts: CurveChartOptions): string {
  const width = opts.width ?? 560;
  const height = opts.height ?? 340;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const finite = series.map((s) => s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)));
  const all = finite.flat();
  const xExtent = finiteExtent(all.map((p) => p.x));
  const yExtent = finiteExtent(all.map((p) => p.y));
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<title>${escapeXml(opts.title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-family="sans-serif" font-size="14">${escapeXml(opts.title)}</text>`,
  ];
  if (xExtent === null || yExtent === null) {
    parts.push(`<text x="${width / 2}" y="${height / 2}" text-anchor="middle" ${FONT} fill="#666666">no data</text>`, '</svg>');
    return parts.join('\n');
  }
  // Epochs are whole numbers: x ticks stay integers unless the data are not.
  const xAxis = niceScale(...xExtent, { integerStep: all.every((p) => Number.isInteger(p.x)) });
  const yAxis = niceScale(...yExtent, { pad: 0.05 });
  const px = (x: number) => MARGIN.left + scaleFraction(xAxis, x) * plotW;
  const py = (y: number) => MARGIN.top + (1 - scaleFraction(yAxis, y)) * plotH;
  const bottom = MARGIN.top + plotH;

  parts.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999999"/>`);
  for (const t of yAxis.ticks) {
    const y = svgCoord(py(t));
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<line x1="${MARGIN.left - 4}" x2="${MARGIN.left}" y1="${y}" y2="${y}" stroke="#333333"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" ${FONT}>${formatTick(t, yAxis.step)}</text>`);
  }
  for (const t of xAxis.ticks) {
    const x = svgCoord(px(t));
    parts.push(`<line x1="${x}" x2="${x}" y1="${bottom}" y2="${bottom + 4}" stroke="#333333"/>`);
    parts.push(`<text x="${x}" y="${bottom + 16}" text-anchor="middle" ${FONT}>${formatTick(t, xAxis.step)}</text>`);
  }
  parts.push(`<text x="${MARGIN.left + plotW / 2}" y="${height - 8}" text-anchor="middle" ${FONT}>${escapeXml(opts.xLabel)}</text>`);
  const midY = MARGIN.top + plotH / 2;
  parts.push(`<text x="14" y="${midY}" text-anchor="middle" transform="rotate(-90 14 ${midY})" ${FONT}>${escapeXml(opts.yLabel)}</text>`);

  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = finite[i].map((p) => `${svgCoord(px(p.x))},${svgCoord(py(p.y))}`);
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
