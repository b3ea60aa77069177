/**
 * A parallel-coordinates chart of the complete trials: one vertical axis per searched parameter (log-scaled for log
 * parameters, evenly spaced choices for categorical ones) and one for the objective; each trial is a line across
 * them, colored from poor (light) to best (dark), so that the region good trials pass through stands out.
 */
import { escapeXml } from '../util/svg-axis.js';
import type { StudySnapshot } from './snapshot.js';
import type { ParamValue, TrialRecord } from './types.js';

const WIDTH = 760;
const HEIGHT = 320;
const TOP = 40;
const BOTTOM = 40;
const SIDE = 60;

function label(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const abs = Math.abs(v);
  return abs !== 0 && (abs < 1e-3 || abs >= 1e5) ? v.toExponential(2) : String(Number(v.toPrecision(3)));
}

interface Axis {
  name: string;
  /** Where a value sits, 0 (bottom) .. 1 (top). */
  position(v: ParamValue): number;
  ticks: { at: number; text: string }[];
}

function numericAxis(name: string, values: number[], log: boolean): Axis {
  const f = (v: number) => (log ? Math.log(v) : v);
  const lo = Math.min(...values.map(f));
  const hi = Math.max(...values.map(f));
  const span = hi - lo || 1;
  const position = (v: ParamValue) => (f(Number(v)) - lo) / span;
  const inverse = (p: number) => (log ? Math.exp(lo + p * span) : lo + p * span);
  return { name, position, ticks: [0, 0.5, 1].map((at) => ({ at, text: label(inverse(at)) })) };
}

function categoricalAxis(name: string, choices: readonly ParamValue[]): Axis {
  const labels = choices.map(String);
  const step = labels.length > 1 ? 1 / (labels.length - 1) : 0;
  return {
    name,
    position: (v) => (labels.length > 1 ? labels.indexOf(String(v)) * step : 0.5),
    ticks: labels.map((text, i) => ({ at: labels.length > 1 ? i * step : 0.5, text })),
  };
}

/** The chart for the parameters `names` (the searched ones); null with fewer than two of them or no complete trial. */
export function parallelCoordinates(study: StudySnapshot, names: readonly string[]): string | null {
  const { metric, mode } = study.config.objective;
  const trials = study.trials.filter((t): t is TrialRecord & { objective: number } =>
    t.status === 'complete' && t.objective !== null && Number.isFinite(t.objective) && names.every((n) => t.params[n] !== undefined));
  if (names.length < 2 || trials.length === 0) return null;
  const axes: Axis[] = names.map((name) => {
    const spec = study.config.space[name];
    if (spec?.kind === 'float' || spec?.kind === 'int') return numericAxis(name, trials.map((t) => Number(t.params[name])), spec.log);
    const choices = spec?.kind === 'categorical' ? spec.choices : [...new Set(trials.map((t) => t.params[name]))];
    return categoricalAxis(name, choices);
  });
  axes.push(numericAxis(metric, trials.map((t) => t.objective), false));

  const x = (i: number) => SIDE + (i * (WIDTH - 2 * SIDE)) / (axes.length - 1);
  const y = (p: number) => TOP + (1 - p) * (HEIGHT - TOP - BOTTOM);
  const objectives = trials.map((t) => t.objective);
  const [worst, best] = mode === 'max' ? [Math.min(...objectives), Math.max(...objectives)] : [Math.max(...objectives), Math.min(...objectives)];
  const quality = (v: number) => (best === worst ? 1 : (v - worst) / (best - worst));
  // Best trials drawn last, on top.
  const ordered = [...trials].sort((a, b) => quality(a.objective) - quality(b.objective));
  const lines = ordered.map((t) => {
    const q = quality(t.objective);
    const points = axes.map((axis, i) => {
      const value = i === axes.length - 1 ? t.objective : t.params[axis.name];
      return `${x(i).toFixed(1)},${y(axis.position(value)).toFixed(1)}`;
    });
    const color = `hsl(215,70%,${Math.round(85 - 55 * q)}%)`;
    return `<polyline class="trial" fill="none" stroke="${color}" stroke-width="${(1 + q).toFixed(2)}" points="${points.join(' ')}"><title>${escapeXml(`trial ${t.id}: ${metric} = ${label(t.objective)}`)}</title></polyline>`;
  });
  const axisMarks = axes.map((axis, i) => [
    `<line class="axis" x1="${x(i)}" y1="${y(0)}" x2="${x(i)}" y2="${y(1)}" stroke="#555"/>`,
    `<text x="${x(i)}" y="${TOP - 12}" text-anchor="middle">${escapeXml(axis.name)}</text>`,
    ...axis.ticks.map((tick) => `<text x="${x(i) + 4}" y="${y(tick.at) + 4}" font-size="10">${escapeXml(tick.text)}</text>`),
  ].join(''));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="parallel coordinates">`,
    `<text class="chart-title" x="${WIDTH / 2}" y="16" text-anchor="middle">Parallel coordinates of the complete trials (darker is better)</text>`,
    ...lines,
    ...axisMarks,
    '</svg>',
  ].join('');
}
