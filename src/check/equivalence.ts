/**
 * Inference equivalence check: runs two models on the same generated inputs in onnxruntime-node and compares the
 * outputs they share by name (numpy's allclose: |a - b| <= atol + rtol * |b|, NaN equal to NaN). Used to check
 * every rewrite that must not change inference, and by the CLI's --verify.
 */
import type { Tensor } from '../runtime/onnxruntime.js';
import { describeError, RegraftError } from '../errors.js';
import { cloneModel } from '../ir/clone.js';
import type { Model, Value } from '../ir/index.js';
import { modelToBytes } from '../model-io.js';
import { stripTraining } from '../passes/strip-training.js';
import { createSession, type Feeds, type Session } from '../runtime/session.js';
import { Rng } from '../util/rng.js';
import { randomInputFor } from './random-inputs.js';

export interface VerifyOptions {
  /** Seed of the generated inputs (default 0). */
  seed?: number;
  /** Size used for symbolic or unknown dimensions (default 2). */
  batch?: number;
  atol?: number;
  rtol?: number;
  /** Exact shapes for inputs whose declared shape is missing or should be overridden. */
  shapes?: Record<string, readonly number[]>;
  /** Exclusive upper bound of generated integer inputs (default 2: valid labels and indices for any size >= 2). */
  intHigh?: number;
  /**
   * Compare against the inference form of `original` (strip-training applied to a copy), for an original whose
   * Dropout or BatchNormalization runs in training mode. Default false: the original is run as given.
   */
  inferenceFormOfOriginal?: boolean;
}

export interface OutputComparison {
  name: string;
  dims: number[];
  maxAbsDiff: number;
  allclose: boolean;
  /** Set when the two outputs differ in shape (then maxAbsDiff is Infinity). */
  shapeMismatch?: string;
}

export interface VerifyReport {
  ok: boolean;
  outputs: OutputComparison[];
  /** The generated inputs: name and dims. */
  inputs: { name: string; dims: number[] }[];
  atol: number;
  rtol: number;
}

export async function verifyEquivalent(original: Model, rewritten: Model, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-4;
  const shared = original.graph.outputs.map((v) => v.name).filter((n) => rewritten.graph.outputs.some((v) => v.name === n));
  if (shared.length === 0) {
    throw new RegraftError(`verify: the models share no graph output name (original: ${original.graph.outputs.map((v) => v.name).join(', ')}; rewritten: ${rewritten.graph.outputs.map((v) => v.name).join(', ')})`);
  }
  let reference = original;
  if (opts.inferenceFormOfOriginal) {
    reference = cloneModel(original);
    stripTraining(reference, { keepOutputs: shared });
  }

  const rng = new Rng(opts.seed ?? 0);
  const generated = new Map<string, Tensor>();
  const feedsFor = (model: Model): Feeds => {
    const feeds: Feeds = {};
    for (const v of runtimeInputs(model)) {
      let t = generated.get(v.name);
      if (!t) {
        t = randomInputFor(v, inputDims(v, opts), rng, opts.intHigh ?? 2, 'verify');
        generated.set(v.name, t);
      }
      feeds[v.name] = t;
    }
    return feeds;
  };
  const referenceFeeds = feedsFor(reference);
  const rewrittenFeeds = feedsFor(rewritten);
  const expected = await runModel(reference, referenceFeeds, shared, 'original');
  const actual = await runModel(rewritten, rewrittenFeeds, shared, 'rewritten');

  const outputs = shared.map((name) => compare(name, expected[name], actual[name], atol, rtol));
  return {
    ok: outputs.every((o) => o.allclose),
    outputs,
    inputs: [...generated].map(([name, t]) => ({ name, dims: [...t.dims] })),
    atol,
    rtol,
  };
}

/** Throws a one-line RegraftError naming the first output that differs and by how much. */
export function assertVerified(report: VerifyReport): void {
  const bad = report.outputs.find((o) => !o.allclose);
  if (!bad) return;
  const why = bad.shapeMismatch ?? `max |difference| ${bad.maxAbsDiff.toExponential(3)} exceeds atol ${report.atol} + rtol ${report.rtol} * |expected|`;
  throw new RegraftError(`verify: output '${bad.name}' differs between the original and the rewritten model: ${why}`);
}

/** One line for the CLI: which outputs were compared and the largest difference. */
export function formatVerifyReport(report: VerifyReport): string {
  const parts = report.outputs.map((o) => `${o.name} max |diff| ${o.maxAbsDiff.toExponential(2)}`);
  return `verify ${report.ok ? 'ok' : 'FAILED'}: ${parts.join(', ')} (inputs ${report.inputs.map((i) => `${i.name}[${i.dims.join(',')}]`).join(', ')})`;
}

/** Inputs a session must be fed: graph inputs without an initializer default. */
function runtimeInputs(model: Model): Value[] {
  return model.graph.inputs.filter((v) => !v.isInitializer);
}

function inputDims(v: Value, opts: VerifyOptions): number[] {
  const given = opts.shapes?.[v.name];
  if (given) return [...given];
  const shape = v.shape;
  if (!shape) throw new RegraftError(`verify: input '${v.name}' declares no shape; pass its shape in the shapes option`);
  return shape.map((d) => (typeof d === 'number' && d >= 0 ? d : (opts.batch ?? 2)));
}

/** The cause onnxruntime gave, when the runtime wrapped it: verify words its own message around it. */
const causeOf = (err: unknown): unknown => (err instanceof Error && err.cause !== undefined ? err.cause : err);

async function runModel(model: Model, feeds: Feeds, outputs: string[], label: string): Promise<Record<string, Tensor>> {
  let session: Session;
  try {
    session = await createSession(modelToBytes(model), { name: `the ${label} model` });
  } catch (err) {
    throw new RegraftError(`verify: onnxruntime cannot load the ${label} model: ${describeError(causeOf(err))}`);
  }
  try {
    return await session.run(feeds, outputs);
  } catch (err) {
    throw new RegraftError(`verify: onnxruntime failed to run the ${label} model: ${describeError(causeOf(err))}`);
  } finally {
    await session.release();
  }
}

function compare(name: string, expected: Tensor, actual: Tensor, atol: number, rtol: number): OutputComparison {
  const dims = [...expected.dims];
  if (expected.dims.length !== actual.dims.length || expected.dims.some((d, i) => d !== actual.dims[i])) {
    return { name, dims, maxAbsDiff: Infinity, allclose: false, shapeMismatch: `shapes [${expected.dims.join(',')}] and [${actual.dims.join(',')}] differ` };
  }
  const a = Array.from(expected.data as ArrayLike<number | bigint>, Number);
  const b = Array.from(actual.data as ArrayLike<number | bigint>, Number);
  let maxAbsDiff = 0;
  let allclose = true;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i] || (Number.isNaN(a[i]) && Number.isNaN(b[i]))) continue;
    const diff = Math.abs(a[i] - b[i]);
    if (!(diff <= maxAbsDiff)) maxAbsDiff = Number.isNaN(diff) ? Infinity : Math.max(maxAbsDiff, diff);
    if (!(diff <= atol + rtol * Math.abs(a[i]))) allclose = false;
  }
  return { name, dims, maxAbsDiff, allclose };
}
