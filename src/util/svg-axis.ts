/**
 * Axis arithmetic shared by regraft's hand-written SVG charts (the training loss curve of a run directory and the
 * charts of the tuning report): the range an axis shows, its "nice" ticks (1, 2 or 5 times a power of ten apart,
 * as people draw them by hand), tick labels that tell neighbouring ticks apart, and the two text helpers every
 * chart needs (coordinates and XML escaping). Pure functions: the charts decide layout and style.
 */

/** The value range an axis shows, padding included, and the tick positions inside it. */
export interface NiceScale {
  lo: number;
  hi: number;
  /** Distance between neighbouring ticks. */
  step: number;
  ticks: number[];
}

export interface NiceScaleOptions {
  /** Fraction of the data's span added on each side, so that no point sits on the plot border. Default 0. */
  pad?: number;
  /** Keep ticks on whole numbers (epochs, trial ids): the step is rounded to an integer of at least 1. */
  integerStep?: boolean;
  /** About how many intervals the axis should be cut into. Default 5. */
  intervals?: number;
}

/** The smallest and largest finite value, or null when there is none. A loop: spreading 10^5 values into Math.min overflows the stack. */
export function finiteExtent(values: Iterable<number>): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : null;
}

/** The smallest of 1, 2, 5 or 10 times a power of ten that is at least `span / intervals`. */
export function niceStep(span: number, intervals = 5): number {
  if (!(span > 0) || !Number.isFinite(span)) throw new RangeError(`niceStep needs a positive finite span, got ${span}`);
  const rough = span / intervals;
  const power = 10 ** Math.floor(Math.log10(rough));
  for (const m of [1, 2, 5]) if (m * power >= rough * (1 - 1e-12)) return m * power;
  return 10 * power;
}

/**
 * An axis over the data range [min, max], widened by `pad` of its span on each side, with ticks on every multiple
 * of a nice step inside it. A single value (min === max) gets a range of 10% of its size around it (±1 around 0),
 * so that it is drawn in the middle instead of dividing by a zero span.
 */
export function niceScale(min: number, max: number, opts: NiceScaleOptions = {}): NiceScale {
  if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) {
    throw new RangeError(`niceScale needs finite min <= max, got [${min}, ${max}]`);
  }
  let lo = min;
  let hi = max;
  if (lo === hi) {
    const half = Math.abs(lo) * 0.1 || 1;
    lo -= half;
    hi += half;
  }
  const span = hi - lo;
  const pad = opts.pad ?? 0;
  lo -= span * pad;
  hi += span * pad;
  let step = niceStep(hi - lo, opts.intervals);
  if (opts.integerStep) step = Math.max(1, Math.round(step));
  const ticks: number[] = [];
  // Multiplying k * step (rather than adding step repeatedly) keeps rounding errors from piling up; toPrecision
  // then removes the last-digit noise (0.30000000000000004 -> 0.3), and `|| 0` turns -0 into 0.
  for (let k = Math.ceil(lo / step); k * step <= hi + step * 1e-9; k++) ticks.push(Number((k * step).toPrecision(12)) || 0);
  return { lo, hi, step, ticks };
}

/** Where `v` falls between the ends of the scale: 0 at `lo`, 1 at `hi` (outside [0, 1] for values outside). */
export function scaleFraction(scale: Pick<NiceScale, 'lo' | 'hi'>, v: number): number {
  return (v - scale.lo) / (scale.hi - scale.lo);
}

/**
 * A tick label with as many digits as the step needs to tell neighbours apart (1000.2 next to 1000.4, not 1000
 * twice), trailing zeros dropped; very small or large magnitudes (below 1e-3, from 1e6) in exponent form.
 */
export function formatTick(value: number, step: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  const stepExponent = Math.floor(Math.log10(Math.abs(step)));
  if (abs < 1e-3 || abs >= 1e6) {
    const digits = Math.min(20, Math.max(1, Math.floor(Math.log10(abs)) - stepExponent));
    return value.toExponential(digits);
  }
  return String(Number(value.toFixed(Math.min(20, Math.max(0, -stepExponent)))));
}

/** A coordinate in SVG user units: a tenth of a pixel is finer than any screen shows, and keeps files small. */
export function svgCoord(v: number): string {
  return v.toFixed(1);
}

/** Text safe inside SVG/HTML element content and double- or single-quoted attributes. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
