import type { Tensor } from 'onnxruntime-node';
import { RegraftError } from '../errors.js';
import { DataType } from '../ir/dtype.js';
import type { Model } from '../ir/model.js';
import { numel, tensorDims, tensorToFloat32 } from '../ir/tensor.js';
import type { Value } from '../ir/value.js';
import { modelToBytes } from '../model-io.js';
import { createSession } from '../runtime/session.js';
import { floatTensor } from '../runtime/tensors.js';
import { Rng } from '../util/rng.js';
import { buildBackward } from './backward.js';
import { cloneModel } from '../ir/clone.js';

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
}

/**
 * Compares the gradients regraft's backward pass computes (run in onnxruntime) with central differences of the loss
 * ((L(w + eps) - L(w - eps)) / 2 eps per sampled element), as ONNX Runtime's GradientChecker does.
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

  // Numeric: the parameters become plain graph inputs so they can be fed (onnxruntime-node ignores feeds of initializers).
  const numeric = cloneModel(opts.model);
  const numericLoss = numeric.graph.requireValue(opts.loss, 'loss value');
  if (!numeric.graph.outputs.includes(numericLoss)) numeric.graph.addOutput(numericLoss);
  const base = new Map<string, { data: Float32Array; dims: number[] }>();
  for (const p of params) {
    const v = numeric.graph.requireValue(p.name);
    const t = numeric.graph.initializerToInput(v);
    base.set(p.name, { data: tensorToFloat32(t), dims: tensorDims(t) });
  }
  const fdSession = await createSession(modelToBytes(numeric), { name: 'gradcheck (numeric)' });
  const lossAt = async (name: string, data: Float32Array): Promise<number> => {
    const feeds: Record<string, Tensor> = { ...opts.feeds };
    for (const [n, b] of base) feeds[n] = floatTensor(n === name ? data : b.data, b.dims);
    const out = await fdSession.run(feeds);
    return Number((out[opts.loss].data as Float32Array)[0]);
  };

  const results: ParamGradCheck[] = [];
  for (const p of params) {
    const g = grads.get(p)!;
    const analyticGrad = fetched[g.name].data as Float32Array;
    const { data } = base.get(p.name)!;
    if (analyticGrad.length !== data.length) {
      throw new RegraftError(`gradcheck: gradient of '${p.name}' has ${analyticGrad.length} elements, the parameter has ${data.length}`);
    }
    const count = Math.min(data.length, opts.samplesPerParam ?? 16);
    const indices = count === data.length ? data.map((_, i) => i) : Array.from({ length: count }, () => rng.int(data.length));
    let maxAbs = 0;
    let scale = 0;
    for (const i of indices) {
      const probe = data.slice();
      probe[i] = data[i] + eps;
      const up = await lossAt(p.name, probe);
      probe[i] = data[i] - eps;
      const down = await lossAt(p.name, probe);
      const num = (up - down) / (2 * eps);
      maxAbs = Math.max(maxAbs, Math.abs(num - analyticGrad[i]));
      scale = Math.max(scale, Math.abs(num), Math.abs(analyticGrad[i]));
    }
    results.push({ param: p.name, maxAbsError: maxAbs, maxRelError: maxAbs / Math.max(scale, 1e-6), checked: indices.length });
  }
  await fdSession.release();
  return results;
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
