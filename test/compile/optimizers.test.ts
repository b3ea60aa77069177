// Compiled optimizer updates against the update rules as torch.optim documents them (SGD with momentum/nesterov,
// Adam, AdamW), three steps each, carried values fed back as the trainer does.
// Bench: prediction = W * x (elementwise), mse-half loss against targets t, so g = (W x - t) x / n exactly, and g
// changes from step to step (a constant gradient would hide mistakes in Adam's moment bookkeeping).
import { Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { expectClose } from '../autodiff/helpers.js';
import { compileTrainStep } from '../../src/compile/compile.js';
import type { OptimizerConfig } from '../../src/compile/optimizers.js';
import { linearSumModel, randomFeeds, smallMlp } from './models.js';
import { openFeedableStep, scalarOf } from './step-helpers.js';

const W0 = [0.5, -1.5, 2.0, 0.25];
const X = [1.0, -2.0, 0.5, 3.0];
const T = [0.3, 1.0, -0.2, 0.4];
const LRS = [0.1, 0.05, 0.2];

const gradient = (w: number[]) => w.map((wi, i) => ((wi * X[i] - T[i]) * X[i]) / w.length);

interface State {
  w: number[];
  /** Optimizer state by PyTorch's name for it (`W.momentum_buffer`, `W.exp_avg`, `W.exp_avg_sq`, `optimizer.step`). */
  state: Record<string, number[]>;
}

/** torch.nn.utils.clip_grad_norm_: one factor min(1, max / (||g|| + 1e-6)) for all gradients. */
function clipped(g: number[], maxNorm: number | undefined): number[] {
  if (maxNorm === undefined) return g;
  const norm = Math.sqrt(g.reduce((sum, x) => sum + x * x, 0));
  return g.map((x) => x * Math.min(1, maxNorm / (norm + 1e-6)));
}

/** One step of the rule as torch.optim defines it, in float64. */
function referenceStep(config: OptimizerConfig, s: State, lr: number, t: number): State {
  const g = clipped(gradient(s.w), config.clipGradNorm);
  switch (config.kind) {
    case 'sgd':
      return { w: s.w.map((w, i) => w - lr * g[i]), state: {} };
    case 'momentum': {
      const mu = config.momentum ?? 0.9;
      // PyTorch: b_1 = g_1, then b_t = mu b_{t-1} + g_t (dampening 0); nesterov steps along g + mu b_t.
      const b = t === 1 ? g : s.state['W.momentum_buffer'].map((bi, i) => mu * bi + g[i]);
      const dir = config.nesterov ? g.map((gi, i) => gi + mu * b[i]) : b;
      return { w: s.w.map((w, i) => w - lr * dir[i]), state: { 'W.momentum_buffer': b } };
    }
    case 'adam':
    case 'adamw': {
      const [b1, b2, eps] = [config.beta1 ?? 0.9, config.beta2 ?? 0.999, config.epsilon ?? 1e-8];
      const decayed = config.kind === 'adamw' ? s.w.map((w) => w * (1 - lr * (config.weightDecay ?? 0.01))) : s.w;
      const m = (s.state['W.exp_avg'] ?? [0, 0, 0, 0]).map((mi, i) => b1 * mi + (1 - b1) * g[i]);
      const v = (s.state['W.exp_avg_sq'] ?? [0, 0, 0, 0]).map((vi, i) => b2 * vi + (1 - b2) * g[i] * g[i]);
      const w = decayed.map((wi, i) => wi - (lr * (m[i] / (1 - b1 ** t))) / (Math.sqrt(v[i] / (1 - b2 ** t)) + eps));
      return { w, state: { 'W.exp_avg': m, 'W.exp_avg_sq': v, 'optimizer.step': [t] } };
    }
    default:
      throw new Error(`no reference for ${config.kind}`);
  }
}

/** Runs three compiled steps, feeding every carried output back into its input, and compares with the reference. */
async function checkThreeSteps(config: OptimizerConfig): Promise<void> {
  const step = compileTrainStep(linearSumModel(W0), { loss: 'mse-half', optimizer: config, emitGradients: true });
  expect(step.lr).toBe('lr');
  const fs = await openFeedableStep(step);
  try {
    const carried: Record<string, Tensor> = { ...fs.initial };
    let ref: State = { w: W0, state: {} };
    for (let t = 1; t <= LRS.length; t++) {
      const out = await fs.session.run({
        ...carried,
        input: new Tensor('float32', Float32Array.from(X), [X.length]),
        [step.labels]: new Tensor('float32', Float32Array.from(T), [T.length]),
        lr: new Tensor('float32', new Float32Array([LRS[t - 1]]), []),
      });
      const g = gradient(ref.w);
      expectClose(out[step.gradients.W].data as Float32Array, g, 1e-6, `${config.kind} step ${t} gradient`);
      const loss = ref.w.reduce((sum, w, i) => sum + (w * X[i] - T[i]) ** 2, 0) / (2 * X.length);
      expect(scalarOf(out[step.loss])).toBeCloseTo(loss, 5);
      ref = referenceStep(config, ref, LRS[t - 1], t);
      for (const c of step.carried) carried[c.input] = out[c.output];
      expectClose(carried.W.data as Float32Array, ref.w, 2e-6, `${config.kind} step ${t} W`);
      for (const [name, expected] of Object.entries(ref.state)) {
        expect(carried[name], `state '${name}' is carried`).toBeDefined();
        expectClose(carried[name].data as Float32Array, expected, 2e-6, `${config.kind} step ${t} ${name}`);
      }
    }
    // Every carried value is a parameter or a state the reference knows: nothing extra is stored.
    expect(step.carried.map((c) => c.input).sort()).toEqual(['W', ...Object.keys(ref.state)].sort());
  } finally {
    await fs.release();
  }
}

describe('optimizer updates follow torch.optim', () => {
  it('sgd: p - lr g', () => checkThreeSteps({ kind: 'sgd' }));
  it('momentum 0.9 (heavy ball, PyTorch buffer convention)', () => checkThreeSteps({ kind: 'momentum' }));
  it('momentum 0.5 with Nesterov', () => checkThreeSteps({ kind: 'momentum', momentum: 0.5, nesterov: true }));
  it('adam with PyTorch defaults', () => checkThreeSteps({ kind: 'adam' }));
  it('adam with custom betas and epsilon', () => checkThreeSteps({ kind: 'adam', beta1: 0.8, beta2: 0.99, epsilon: 1e-3 }));
  it('adam with beta1 = 0 (no first-moment averaging)', () => checkThreeSteps({ kind: 'adam', beta1: 0 }));
  it('adamw: decoupled weight decay', () => checkThreeSteps({ kind: 'adamw', weightDecay: 0.1 }));
  // The gradient's norm at W0 is about 1.05: 0.3 clips every step, 5 never does.
  it('sgd with the gradient norm clipped to 0.3', () => checkThreeSteps({ kind: 'sgd', clipGradNorm: 0.3 }));
  it('momentum with a clip that does not bind (5)', () => checkThreeSteps({ kind: 'momentum', clipGradNorm: 5 }));
  it('adam with the gradient norm clipped to 0.3', () => checkThreeSteps({ kind: 'adam', clipGradNorm: 0.3 }));

  // Bias corrections late in a run: beta1^t underflows float32 after ~1000 steps, where a naive expm1 form breaks.
  it.each([999, 5000])('adam stays exact after %i steps', async (done) => {
    const config: OptimizerConfig = { kind: 'adam' };
    const step = compileTrainStep(linearSumModel(W0), { loss: 'mse-half', optimizer: config });
    const fs = await openFeedableStep(step);
    try {
      const m = [0.01, -0.02, 0.005, 0.03];
      const v = [1e-4, 4e-4, 2e-5, 9e-4];
      const out = await fs.session.run({
        ...fs.initial,
        'W.exp_avg': new Tensor('float32', Float32Array.from(m), [4]),
        'W.exp_avg_sq': new Tensor('float32', Float32Array.from(v), [4]),
        'optimizer.step': new Tensor('float32', new Float32Array([done]), []),
        input: new Tensor('float32', Float32Array.from(X), [X.length]),
        [step.labels]: new Tensor('float32', Float32Array.from(T), [T.length]),
        lr: new Tensor('float32', new Float32Array([0.01]), []),
      });
      const ref = referenceStep(config, { w: W0, state: { 'W.exp_avg': m, 'W.exp_avg_sq': v } }, 0.01, done + 1);
      expectClose(out.W_updated.data as Float32Array, ref.w, 2e-6, `adam after ${done} steps`);
    } finally {
      await fs.release();
    }
  });

  it('clipping uses one norm over all parameters (an MLP): p - lr min(1, c / ||g||) g for every tensor', async () => {
    const step = compileTrainStep(smallMlp(), { loss: 'cross-entropy', optimizer: { kind: 'sgd', clipGradNorm: 0.05 }, emitGradients: true });
    const fs = await openFeedableStep(step);
    try {
      const out = await fs.session.run({ ...fs.initial, ...randomFeeds(step.model, { batch: 6, classes: 5, labels: step.labels }), lr: new Tensor('float32', new Float32Array([0.5]), []) });
      const grads = step.params.map((p) => Array.from(out[step.gradients[p]].data as Float32Array));
      const norm = Math.sqrt(grads.flat().reduce((sum, g) => sum + g * g, 0));
      expect(norm).toBeGreaterThan(0.1); // the clip binds
      const factor = 0.05 / (norm + 1e-6);
      step.params.forEach((p, k) => {
        const before = fs.initial[p].data as Float32Array;
        const carried = step.carried.find((c) => c.input === p)!;
        expectClose(out[carried.output].data as Float32Array, Array.from(before, (w, i) => w - 0.5 * factor * grads[k][i]), 1e-6, `${p} clipped`);
      });
    } finally {
      await fs.release();
    }
  });

  it('refuses out-of-range hyperparameters, naming them', () => {
    const model = linearSumModel(W0);
    expect(() => compileTrainStep(model, { loss: 'mse', optimizer: { kind: 'momentum', momentum: 1 } })).toThrow(/momentum must be in \[0, 1\)/);
    expect(() => compileTrainStep(model, { loss: 'mse', optimizer: { kind: 'adam', beta2: -0.1 } })).toThrow(/beta2/);
    expect(() => compileTrainStep(model, { loss: 'mse', optimizer: { kind: 'sgd', clipGradNorm: 0 } })).toThrow('clipGradNorm must be a number > 0, got 0');
  });

  it("optimizer 'none' adds no lr input and carries nothing", () => {
    const step = compileTrainStep(linearSumModel(W0), { loss: 'mse', optimizer: 'none', emitGradients: true });
    expect(step.lr).toBeUndefined();
    expect(step.carried).toEqual([]);
    expect(step.model.graph.inputs.map((v) => v.name)).toEqual(['input', 'labels', 'W']);
    expect(step.model.graph.outputs.map((v) => v.name)).toEqual(['loss', 'W_grad']);
  });
});
