import type { Tensor } from '../runtime/onnxruntime.js';
import { RegraftError } from '../errors.js';
import { DataType } from '../ir/dtype.js';
import type { Model } from '../ir/model.js';
import { numel } from '../ir/tensor.js';
import type { Value } from '../ir/value.js';
import { modelToBytes } from '../model-io.js';
import { createSession } from '../runtime/session.js';
import { ortFloatTensor } from '../runtime/tensors.js';
import { Rng } from '../util/rng.js';
import { buildBackward } from '../autodiff/backward.js';
import { exposeMaxPoolIndices } from '../autodiff/forward-outputs.js';
import { cloneModel } from '../ir/clone.js';
import { feedableStep } from '../compile/step-io.js';

export interface GradCheckOptions {
  /** A model with a scalar loss value; it is not modified. */
  model: Model;
  /** Name of the scalar loss value. */
  loss: string;
  /** Float initializers to check (default: every float initializer the loss depends on). */
  params?: readonly string[];
  /** Feeds for the model's graph inputs. */
  feeds: Record<string, Tensor>;
  /** Central-difference step (default 1e-2, suited to float32 arithmetic). */
  eps?: number;
  /** Elements sampled per parameter (default 16; all of them for small tensors). */
  samplesPerParam?: number;
  seed?: number;
}

export interface ParamGradCheck {
  param: string;
  /** max |analytic - numeric| over the sampled elements, divided by max(|numeric|) over them (the gradient's scale). */
  maxRelError: number;
  maxAbsError: number;
  checked: number;
  /** Sampled elements whose probe crossed a ReLU or MaxPool kink even at eps/4: not compared, others drawn instead. */
  skipped: number;
}

/**
 * Compares the gradients regraft's backward pass computes (run in onnxruntime) with central differences of the loss
 * ((L(w + eps) - L(w - eps)) / 2 eps per sampled element), as ONNX Runtime's GradientChecker does. Probes that cross
 * a ReLU or MaxPool kink are not comparable (the difference then measures the jump, not the slope): they are
 * retried with a smaller step or skipped and counted.
 */
export async function gradcheck(opts: GradCheckOptions): Promise<ParamGradCheck[]> {
  const eps = opts.eps ?? 1e-2;
  const rng = new Rng(opts.seed ?? 0);

  // Analytic: a copy of the model with the backward pass and every gradient as a graph output.
  const analytic = cloneModel(opts.model);
  const loss = analytic.graph.requireValue(opts.loss, 'loss value');
  const params = selectParams(analytic, loss, opts.params);
  const { grads, unused } = buildBackward(analytic, { loss, wrt: params });
  if (unused.length > 0) throw new RegraftError(`gradcheck: the loss does not depend on ${unused.map((v) => `'${v.name}'`).join(', ')}`);
  for (const g of grads.values()) analytic.graph.addOutput(g);
  if (!analytic.graph.outputs.includes(loss)) analytic.graph.addOutput(loss);
  const session = await createSession(modelToBytes(analytic), { name: 'gradcheck (analytic)' });
  const fetched = await session.run(opts.feeds);
  await session.release();

  // Numeric: the parameters become plain graph inputs so they can be fed (onnxruntime-node ignores feeds of
  // initializers), and the values that decide which side of a kink the model is on become outputs too.
  const { model: numeric, initial: base } = feedableStep(opts.model, params.map((p) => p.name));
  const numericLoss = numeric.graph.requireValue(opts.loss, 'loss value');
  if (!numeric.graph.outputs.includes(numericLoss)) numeric.graph.addOutput(numericLoss);
  const kinks = exposeKinks(numeric);
  const fdSession = await createSession(modelToBytes(numeric), { name: 'gradcheck (numeric)' });
  const run = async (name?: string, data?: Float32Array) => {
    const feeds: Record<string, Tensor> = { ...opts.feeds };
    for (const [n, b] of base) feeds[n] = ortFloatTensor(n === name && data ? data : b.data, b.dims);
    const out = await fdSession.run(feeds);
    return { loss: Number((out[opts.loss].data as Float32Array)[0]), regime: regimeOf(out, kinks) };
  };
  const baseRegime = (await run()).regime;

  const results: ParamGradCheck[] = [];
  const wanted = opts.samplesPerParam ?? 16;
  for (const p of params) {
    const g = grads.get(p)!;
    const analyticGrad = fetched[g.name].data as Float32Array;
    const { data } = base.get(p.name)!;
    if (analyticGrad.length !== data.length) {
      throw new RegraftError(`gradcheck: gradient of '${p.name}' has ${analyticGrad.length} elements, the parameter has ${data.length}`);
    }
    results.push({ param: p.name, ...(await compareAtProbes({ run, name: p.name, data, analytic: analyticGrad, wanted, eps, baseRegime, rng })) });
  }
  await fdSession.release();
  return results;
}

/**
 * Compares `analytic` (the gradient of parameter `name`, whose values are `data`) with central differences on
 * `wanted` elements: every element when there are no more, else random draws, skipping elements whose probes
 * straddle a kink (up to 6x `wanted` draws). The relative error is the max abs error over the scale of the
 * checked gradients, so a near-zero gradient element does not blow it up.
 */
export async function compareAtProbes(opts: {
  run: Probe;
  name: string;
  data: Float32Array;
  analytic: Float32Array;
  wanted: number;
  eps: number;
  baseRegime: string;
  rng: Rng;
}): Promise<Omit<ParamGradCheck, 'param'>> {
  const { run, name, data, analytic, wanted, eps, baseRegime, rng } = opts;
  const candidates = data.length <= wanted ? Array.from(data.keys()) : Array.from({ length: 6 * wanted }, () => rng.int(data.length));
  let maxAbs = 0;
  let scale = 0;
  let checked = 0;
  let skipped = 0;
  for (const i of candidates) {
    if (checked >= wanted) break;
    const num = await centralDifference(run, name, data, i, eps, baseRegime);
    if (num === undefined) {
      skipped++;
      continue;
    }
    maxAbs = Math.max(maxAbs, Math.abs(num - analytic[i]));
    scale = Math.max(scale, Math.abs(num), Math.abs(analytic[i]));
    checked++;
  }
  return { maxAbsError: maxAbs, maxRelError: maxAbs / Math.max(scale, 1e-6), checked, skipped };
}

/** Runs the model with parameter `name` set to `data` (or all at their stored values): the loss and the kink regime. */
export type Probe = (name?: string, data?: Float32Array) => Promise<{ loss: number; regime: string }>;

/**
 * (L(w + h) - L(w - h)) / 2h along element i, meaningful only where the loss is smooth along the probe: if either
 * side lands on another side of a kink than w (a ReLU input changes sign, a MaxPool picks another element), h is
 * quartered once, and the element is given up (undefined) if that still crosses one.
 */
export async function centralDifference(run: Probe, name: string, data: Float32Array, i: number, eps: number, baseRegime: string): Promise<number | undefined> {
  for (const h of [eps, eps / 4, eps / 16]) {
    const probe = data.slice();
    probe[i] = data[i] + h;
    const up = await run(name, probe);
    probe[i] = data[i] - h;
    const down = await run(name, probe);
    if (up.regime === baseRegime && down.regime === baseRegime) return (up.loss - down.loss) / (2 * h);
  }
  return undefined;
}

/** Makes the kink-deciding values graph outputs: ReLU/LeakyReLU inputs (their signs) and MaxPool indices. */
export function exposeKinks(model: Model): string[] {
  const names: string[] = [];
  for (const node of [...model.graph.nodes]) {
    let v: Value | null | undefined;
    if (node.opType === 'Relu' || node.opType === 'LeakyRelu') v = node.input(0);
    else if (node.opType === 'MaxPool') v = exposeMaxPoolIndices(node).outputs[1];
    if (!v || names.includes(v.name)) continue;
    if (!v.isGraphOutput) model.graph.addOutput(v);
    names.push(v.name);
  }
  return names;
}

/** Which side of every kink the model is on: the signs of ReLU inputs and the MaxPool indices, as one string. */
export function regimeOf(out: Record<string, Tensor>, kinks: readonly string[]): string {
  return kinks
    .map((name) => Array.from(out[name].data as ArrayLike<number | bigint>, (x) => (typeof x === 'bigint' ? String(x) : x > 0 ? '1' : '0')).join(','))
    .join('|');
}

function selectParams(model: Model, loss: Value, names: readonly string[] | undefined): Value[] {
  if (names) return names.map((n) => model.graph.requireValue(n, 'parameter'));
  const feeds = new Set<Value>();
  const stack = [loss];
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (feeds.has(v)) continue;
    feeds.add(v);
    for (const x of v.producer?.inputs ?? []) if (x) stack.push(x);
  }
  // Scalars are constants (a Dropout ratio, a scale), not weights: the same rule compileTrainStep applies.
  return model.graph.initializers.filter((v) => feeds.has(v) && v.initializer!.dataType === DataType.FLOAT && v.initializer!.dims.length > 0 && numel(v.initializer!.dims) > 0);
}
