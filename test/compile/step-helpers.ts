// Helpers to run a compiled training step in onnxruntime from tests: feeding parameters and state as plain inputs
// (onnxruntime-node ignores feeds of values that are also initializers), and checking a compiled step's gradients
// against central differences of its own `loss` output.
import { Tensor } from 'onnxruntime-node';
import { compareAtProbes, exposeKinks, regimeOf, type Probe } from '../../src/check/gradcheck.js';
import { modelToBytes } from '../../src/model-io.js';
import { createSession, type Session } from '../../src/runtime/session.js';
import type { TrainStep } from '../../src/compile/compile.js';
import { feedableStep } from '../../src/compile/step-io.js';
import { Rng } from '../../src/util/rng.js';

export interface FeedableStep {
  session: Session;
  /** Stored values of every parameter, state and statistic input, by name (fresh tensors, safe to feed). */
  initial: Record<string, Tensor>;
  /** Fetched values that locate Relu kinks and MaxPool choices (with `exposeKinks`). */
  kinkValues: string[];
  release(): Promise<void>;
}

/**
 * Opens a session of the step in which every parameter and carried value is a plain input. With `exposeKinks`,
 * every Relu input and MaxPool indices output is fetched too (named in `kinkValues`).
 */
export async function openFeedableStep(step: TrainStep, opts: { exposeKinks?: boolean } = {}): Promise<FeedableStep> {
  const feedable = feedableStep(step.model, new Set([...step.params, ...step.carried.map((c) => c.input)]));
  const model = feedable.model;
  const kinkValues = opts.exposeKinks ? exposeKinks(model) : [];
  const initial: Record<string, Tensor> = {};
  for (const [name, t] of feedable.initial) initial[name] = new Tensor('float32', t.data.slice(), t.dims);
  const session = await createSession(modelToBytes(model), { name: 'compiled step (test)' });
  return { session, initial, kinkValues, release: () => session.release() };
}

export const scalarOf = (t: Tensor): number => Number((t.data as Float32Array)[0]);

/**
 * Runs `steps` compiled steps on one fixed batch (data and labels in `batch`) at learning rate `lr`, feeding every
 * step's updated parameters and state to the next, as the trainer does; returns the loss of each step.
 */
export async function lossesOnOneBatch(step: TrainStep, batch: Record<string, Tensor>, lr: number, steps: number): Promise<number[]> {
  const fs = await openFeedableStep(step);
  const feeds: Record<string, Tensor> = { ...fs.initial, ...batch, [step.lr!]: new Tensor('float32', new Float32Array([lr]), []) };
  const losses: number[] = [];
  try {
    for (let i = 0; i < steps; i++) {
      const out = await fs.session.run(feeds);
      losses.push(scalarOf(out[step.loss]));
      for (const c of step.carried) feeds[c.input] = out[c.output];
    }
  } finally {
    await fs.release();
  }
  return losses;
}

export interface StepGradCheck {
  param: string;
  maxRelError: number;
  maxAbsError: number;
  checked: number;
  /** Sampled elements whose probe crossed a Relu kink or changed a MaxPool choice (not comparable, resampled). */
  skipped: number;
}

/**
 * For a step compiled with optimizer 'none' and emitGradients: compares every `<param>_grad` output with
 * (loss(w + eps e_i) - loss(w - eps e_i)) / 2 eps of the same step, on `samples` random elements per parameter.
 * Relative error as in src/check/gradcheck.ts: max abs error over the scale of the checked gradients.
 *
 * A central difference is meaningful only where the loss is smooth along the probe. Every Relu input's sign pattern
 * and every MaxPool's argmax indices are fetched at w, w + eps and w - eps; an element whose probe changes any of
 * them straddles a kink: it is probed again with smaller steps (src/check/gradcheck.ts's centralDifference), and
 * if those still straddle one it is not compared and another element is drawn instead (up to 6x `samples` draws).
 */
export async function stepGradcheck(
  step: TrainStep,
  feeds: Record<string, Tensor>,
  opts: { eps?: number; samples?: number; seed?: number } = {},
): Promise<StepGradCheck[]> {
  const eps = opts.eps ?? 1e-2;
  const samples = opts.samples ?? 8;
  const rng = new Rng(opts.seed ?? 0);
  const fs = await openFeedableStep(step, { exposeKinks: true });
  try {
    const base = { ...fs.initial, ...feeds };
    const analytic = await fs.session.run(base);
    const baseRegime = regimeOf(analytic, fs.kinkValues);
    const results: StepGradCheck[] = [];
    for (const p of step.params) {
      const grad = analytic[step.gradients[p]].data as Float32Array;
      const w = fs.initial[p].data as Float32Array;
      const run: Probe = async (name, data) => {
        const out = await fs.session.run(name && data ? { ...base, [name]: new Tensor('float32', data, fs.initial[p].dims) } : base);
        return { loss: scalarOf(out[step.loss]), regime: regimeOf(out, fs.kinkValues) };
      };
      results.push({ param: p, ...(await compareAtProbes({ run, name: p, data: w, analytic: grad, wanted: samples, eps, baseRegime, rng })) });
    }
    return results;
  } finally {
    await fs.release();
  }
}

/** Fails with one message naming every parameter whose relative error is at or above `tol`. */
export function expectGradientsWithin(results: readonly Omit<StepGradCheck, 'skipped'>[], tol: number, label: string): void {
  if (results.length === 0) throw new Error(`${label}: no parameters were checked`);
  const bad = results.filter((r) => !(r.maxRelError < tol));
  if (bad.length > 0) {
    const what = bad.map((r) => `${r.param} rel ${r.maxRelError.toExponential(2)} (abs ${r.maxAbsError.toExponential(2)})`).join('; ');
    throw new Error(`${label}: gradients off (tolerance ${tol}): ${what}`);
  }
}
