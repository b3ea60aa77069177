import { RegraftError } from '../errors.js';
import type { GraphBuilder } from '../ir/builder.js';
import { DataType } from '../ir/dtype.js';
import { tensorDims } from '../ir/tensor.js';
import type { Value } from '../ir/value.js';
import { UPDATED_SUFFIX } from '../training-interface.js';

export const OPTIMIZERS = ['none', 'sgd', 'momentum', 'adam', 'adamw'] as const;
export type OptimizerKind = (typeof OPTIMIZERS)[number];

/** The optimizers a training run can use: 'none' compiles loss and gradients only, which `compile` offers. */
export const TRAINING_OPTIMIZERS = OPTIMIZERS.filter((o): o is Exclude<OptimizerKind, 'none'> => o !== 'none');

export const DEFAULT_OPTIMIZER: OptimizerKind = 'sgd';
/** Momentum's mu and AdamW's decoupled weight decay when not given, as PyTorch's defaults. */
export const DEFAULT_MOMENTUM = 0.9;
export const DEFAULT_WEIGHT_DECAY = 0.01;

export interface OptimizerConfig {
  kind: OptimizerKind;
  /** Momentum factor mu (momentum; default 0.9). */
  momentum?: number;
  /** Nesterov momentum (default false). */
  nesterov?: boolean;
  /** Adam/AdamW moment decay rates and epsilon (PyTorch defaults 0.9, 0.999, 1e-8). */
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** AdamW's decoupled weight decay (default 0.01, as PyTorch). Plain L2 belongs in --l2. */
  weightDecay?: number;
  /**
   * The parameters AdamW decays (by name); absent: all of them, as torch.optim.AdamW over one parameter group. The
   * compiler passes the weight-decay selection (biases and normalization parameters left out by default).
   */
  decayed?: readonly string[];
  /**
   * Scale all gradients together so that their global L2 norm is at most this, before the update, as PyTorch's
   * `clip_grad_norm_(params, max_norm)`: g *= min(1, max_norm / (||g|| + 1e-6)). Unset: no clipping.
   */
  clipGradNorm?: number;
}

/**
 * Names the first optimizer setting the user gave that the chosen optimizer would silently ignore, with what to do
 * instead (e.g. PyTorch's `SGD(momentum=0.9)` is `--optimizer momentum` here; `--optimizer sgd` is plain SGD).
 * `kind` undefined means the default, plain SGD. Returns undefined when every given setting applies.
 */
export function inapplicableOptimizerSetting(
  kind: OptimizerKind | undefined,
  given: { momentum?: number; nesterov?: boolean; weightDecay?: number },
): string | undefined {
  const k = kind ?? DEFAULT_OPTIMIZER;
  if (k !== 'momentum' && (given.momentum !== undefined || given.nesterov)) {
    const flag = given.momentum !== undefined ? `--momentum ${given.momentum}` : '--nesterov';
    const instead = k === 'sgd' ? 'for SGD with momentum (PyTorch\'s SGD(momentum=...)) use --optimizer momentum' : `${k} has no momentum setting`;
    return `${flag} does nothing with --optimizer ${k}: ${instead}`;
  }
  if (k !== 'adamw' && given.weightDecay !== undefined) {
    return `--weight-decay ${given.weightDecay} does nothing with --optimizer ${k}: it is AdamW's decoupled decay; for an L2 penalty use --l2`;
  }
  return undefined;
}

/**
 * PyTorch's clip_grad_norm_: the norm is taken over all gradients at once (sqrt of the sum of every squared
 * element), and one factor min(1, max_norm / (norm + 1e-6)) scales them all, so their direction is kept.
 */
function clipByGlobalNorm(b: GraphBuilder, gradients: ReadonlyMap<Value, Value>, maxNorm: number): Map<Value, Value> {
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm)) throw new RegraftError(`clipGradNorm must be a number > 0, got ${maxNorm}`);
  const squares = [...gradients.values()].map((g) => b.op('ReduceSumSquare', [g], { keepdims: 0 }));
  if (squares.length === 0) return new Map(gradients);
  const norm = b.op('Sqrt', [squares.length === 1 ? squares[0] : b.op('Sum', squares)], {}, { name: 'grad_norm' });
  const ratio = b.div(b.scalar(maxNorm, 'max_grad_norm'), b.add(norm, b.scalar(1e-6, 'clip_eps')));
  const factor = b.op('Min', [ratio, b.scalar(1, 'one')], {}, { name: 'clip_factor' });
  return new Map([...gradients].map(([p, g]) => [p, b.mul(g, factor)]));
}

/** A value the step reads and writes back: parameters and optimizer state. */
export interface Carried {
  /** The graph input (kept as an initializer too, holding the initial value). */
  input: Value;
  /** The step output holding its next value. */
  output: Value;
}

export interface OptimizerGraph {
  carried: Carried[];
  /** Optimizer state inputs (moments, step count), a subset of `carried` inputs. */
  state: Value[];
}

/**
 * Emits the update of every parameter as ONNX ops, following torch.optim's definitions (g = gradient, the
 * learning rate `lr` is a scalar input so the trainer can schedule it):
 * - sgd:       p' = p - lr g
 * - momentum:  b' = mu b + g;  p' = p - lr b'  (Nesterov: p' = p - lr (g + mu b'))
 * - adam:      m' = b1 m + (1-b1) g;  v' = b2 v + (1-b2) g^2;  t' = t + 1;
 *              p' = p - lr (m' / (1 - b1^t')) / (sqrt(v' / (1 - b2^t')) + eps), computed with the corrections
 *              on scalars (below)
 * - adamw:     as adam, with p decayed first: p' = p (1 - lr wd) - lr m^ / (sqrt(v^) + eps), for the parameters
 *              in `decayed` (all when absent); the others update as adam
 * State is named as PyTorch names it: `<p>.momentum_buffer`, `<p>.exp_avg`, `<p>.exp_avg_sq`, and one `optimizer.step`.
 */
export function emitOptimizer(b: GraphBuilder, config: OptimizerConfig, gradients: ReadonlyMap<Value, Value>, lr: Value): OptimizerGraph {
  const params = config.clipGradNorm === undefined ? gradients : clipByGlobalNorm(b, gradients, config.clipGradNorm);
  const carried: Carried[] = [];
  const state: Value[] = [];
  const updated = (v: Value, next: Value): void => {
    const name = b.graph.uniqueValueName(`${v.name}${UPDATED_SUFFIX}`);
    // Name the update's own value when it is a fresh one (saves an Identity per parameter on the hot path).
    if (next.producer && /^val_\d+$/.test(next.name) && !next.isGraphOutput) next.rename(name);
    const out = next.name === name ? next : b.op('Identity', [next], {}, { output: name });
    carried.push({ input: v, output: out });
  };
  const zerosLike = (p: Value, suffix: string): Value => {
    const dims = tensorDims(p.initializer!);
    const v = b.zerosInit(`${p.name}.${suffix}`, dims);
    state.push(v);
    return v;
  };
  const check = (name: string, x: number | undefined, lo: number, hi: number): number | undefined => {
    if (x !== undefined && !(x >= lo && x < hi)) throw new RegraftError(`optimizer ${config.kind}: ${name} must be in [${lo}, ${hi}), got ${x}`);
    return x;
  };

  switch (config.kind) {
    case 'none':
      return { carried, state };
    case 'sgd':
      for (const [p, g] of params) updated(p, b.sub(p, b.mul(lr, g)));
      break;
    case 'momentum': {
      const mu = b.scalar(check('momentum', config.momentum, 0, 1) ?? DEFAULT_MOMENTUM, 'momentum');
      for (const [p, g] of params) {
        const buf = zerosLike(p, 'momentum_buffer');
        const next = b.add(b.mul(mu, buf), g);
        updated(buf, next);
        const direction = config.nesterov ? b.add(g, b.mul(mu, next)) : next;
        updated(p, b.sub(p, b.mul(lr, direction)));
      }
      break;
    }
    case 'adam':
    case 'adamw': {
      const beta1 = check('beta1', config.beta1, 0, 1) ?? 0.9;
      const beta2 = check('beta2', config.beta2, 0, 1) ?? 0.999;
      const eps = b.scalar(config.epsilon ?? 1e-8, 'adam_eps');
      const one = b.scalar(1, 'one');
      const step = b.floatInit('optimizer.step', [0], []);
      state.push(step);
      const t = b.add(step, one);
      updated(step, t);
      // Bias corrections 1 - beta^t, shared by all parameters.
      const c1 = oneMinusPower(b, beta1, t, 'beta1');
      const c2 = oneMinusPower(b, beta2, t, 'beta2');
      const b1 = b.scalar(beta1, 'beta1');
      const b2 = b.scalar(beta2, 'beta2');
      const oneMinusB1 = b.scalar(1 - beta1, 'one_minus_beta1');
      const oneMinusB2 = b.scalar(1 - beta2, 'one_minus_beta2');
      // The bias corrections move onto scalars: lr m^ / (sqrt(v^) + eps) = (lr sqrt(c2) / c1) m' / (sqrt(v') + eps
      // sqrt(c2)), which is 12 elementwise passes over each parameter's size instead of 14 (an MLP's Adam update is
      // most of its step's kernel time).
      const sqrtC2 = b.op('Sqrt', [c2]);
      const stepSize = b.div(b.mul(lr, sqrtC2), c1);
      const epsHat = b.mul(eps, sqrtC2);
      const decay = config.kind === 'adamw' ? b.sub(one, b.mul(lr, b.scalar(config.weightDecay ?? DEFAULT_WEIGHT_DECAY, 'weight_decay'))) : undefined;
      const decayed = config.decayed ? new Set(config.decayed) : undefined;
      for (const [p, g] of params) {
        const m = zerosLike(p, 'exp_avg');
        const v = zerosLike(p, 'exp_avg_sq');
        const m2 = b.add(b.mul(b1, m), b.mul(oneMinusB1, g));
        const v2 = b.add(b.mul(b2, v), b.mul(oneMinusB2, b.mul(g, g)));
        updated(m, m2);
        updated(v, v2);
        const denom = b.add(b.op('Sqrt', [v2]), epsHat);
        const base = decay && (!decayed || decayed.has(p.name)) ? b.mul(p, decay) : p;
        updated(p, b.sub(base, b.mul(stepSize, b.div(m2, denom))));
      }
      break;
    }
    default:
      throw new RegraftError(`unknown optimizer '${String(config.kind)}'; use one of ${OPTIMIZERS.join(', ')}`);
  }
  for (const s of state) if (!s.type) s.setTensorType(DataType.FLOAT, tensorDims(s.initializer!));
  return { carried, state };
}

/**
 * 1 - beta^t, accurate in float32 where 1 - Pow(beta, t) is not: for beta2 = 0.999 the float32 beta is off by
 * 1.3e-8, which makes 1 - beta^t (about 0.001 t for small t) off by 1.3e-5 relative, and Adam's first steps with it.
 * Computed as -expm1(y), y = t ln(beta) with ln(beta) taken in float64, and expm1(y) by Kahan's formula
 * (u - 1) y / ln(u), u = e^y (a few ulps); for |y| < 1e-7, where u may round to 1, expm1(y) = y to 5e-8.
 * Less and Where rather than Equal: Equal takes float inputs only from opset 11. For y < -0.5, plain 1 - e^y.
 */
function oneMinusPower(b: GraphBuilder, beta: number, t: Value, name: string): Value {
  if (beta === 0) return b.scalar(1, 'one');
  const y = b.mul(t, b.scalar(Math.log(beta), `log_${name}`));
  const u = b.op('Exp', [y]);
  const kahan = b.div(b.mul(b.sub(u, b.scalar(1, 'one')), y), b.op('Log', [u]));
  const notTiny = b.op('Less', [y, b.scalar(-1e-7, 'expm1_small')]);
  const small = b.op('Neg', [b.op('Where', [notTiny, kahan, y])]);
  // Far from 0, 1 - u is exact enough, and Kahan's form is not usable: after ~1000 steps u underflows to 0 in
  // float32, Log(0) is -inf and the correction would collapse to 0 (then Adam divides by it).
  const far = b.op('Less', [y, b.scalar(-0.5, 'expm1_far')]);
  return b.op('Where', [far, b.sub(b.scalar(1, 'one'), u), small]);
}
