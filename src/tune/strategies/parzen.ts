/**
 * One-dimensional Parzen estimators for TPE (Bergstra et al., "Algorithms for Hyper-Parameter Optimization", 2011):
 * a mixture of truncated normals, one per observation plus a broad prior, on a bounded interval.
 *
 * Bandwidths follow the adaptive rule of the paper's reference implementation (hyperopt's adaptive Parzen
 * estimator): each kernel is as wide as the larger gap to its sorted neighbours, clipped to
 * [range / min(100, n + 1), range], so dense clusters get narrow kernels and isolated points wide ones. The prior is
 * a normal centred on the interval with the interval's width as sigma, weighted like one observation: it keeps
 * every part of the range reachable.
 */
import type { Rng } from '../../util/rng.js';

export interface Parzen {
  low: number;
  high: number;
  mus: number[];
  sigmas: number[];
  /** Normalised mixture weights. */
  weights: number[];
}

export function fitParzen(observations: readonly number[], low: number, high: number): Parzen {
  const range = high - low;
  const priorMu = (low + high) / 2;
  const points = [...observations.map((x) => Math.min(Math.max(x, low), high)), priorMu].sort((a, b) => a - b);
  const priorIndex = points.indexOf(priorMu);
  const minSigma = range / Math.min(100, points.length + 1);
  const sigmas = points.map((mu, i) => {
    if (i === priorIndex) return range;
    const left = mu - (i > 0 ? points[i - 1] : low);
    const right = (i < points.length - 1 ? points[i + 1] : high) - mu;
    return Math.min(Math.max(left, right, minSigma), range);
  });
  const weights = points.map(() => 1 / points.length);
  return { low, high, mus: points, sigmas, weights };
}

/** A draw from the mixture, kept inside [low, high]. */
export function sampleParzen(p: Parzen, rng: Rng): number {
  const k = pickIndex(p.weights, rng);
  for (let attempt = 0; attempt < 64; attempt++) {
    const x = p.mus[k] + p.sigmas[k] * rng.normal();
    if (x >= p.low && x <= p.high) return x;
  }
  // Rejection almost never runs this long (each kernel has at least ~16% of its mass inside); clip as a last resort.
  return Math.min(Math.max(p.mus[k], p.low), p.high);
}

/** Log density of the truncated mixture at x. */
export function logPdfParzen(p: Parzen, x: number): number {
  const terms = p.mus.map((mu, i) => {
    const s = p.sigmas[i];
    const mass = Math.max(normalCdf((p.high - mu) / s) - normalCdf((p.low - mu) / s), 1e-12);
    const z = (x - mu) / s;
    return Math.log(p.weights[i]) - 0.5 * z * z - Math.log(s * Math.sqrt(2 * Math.PI) * mass);
  });
  return logSumExp(terms);
}

export function pickIndex(weights: readonly number[], rng: Rng): number {
  let u = rng.next() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i];
    if (u < 0) return i;
  }
  return weights.length - 1;
}

function logSumExp(xs: readonly number[]): number {
  const m = Math.max(...xs);
  if (!Number.isFinite(m)) return m;
  return m + Math.log(xs.reduce((acc, x) => acc + Math.exp(x - m), 0));
}

function normalCdf(z: number): number {
  return 0.5 * (1 + erf(z / Math.SQRT2));
}

/** Abramowitz & Stegun 7.1.26: absolute error below 1.5e-7, plenty for ranking candidates. */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const ax = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * ax);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign * (1 - poly * Math.exp(-ax * ax));
}
