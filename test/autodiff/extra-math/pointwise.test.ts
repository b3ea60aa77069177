import { describe, it } from 'vitest';
import { float } from '../../../src/ir/attributes.js';
import { checkGradients, computeGradients, expectClose, makeOpModel } from '../helpers.js';
import { awayFromKinks, count } from './extra-helpers.js';

const SELU_ALPHA = 1.67326319217681884765625;
const SELU_GAMMA = 1.05070102214813232421875;

interface Unary {
  op: string;
  /** All FLOAT attributes (wrapped with float() when the model is built, so 2 stays a float). */
  attrs?: Record<string, number>;
  opset?: number;
  range: [number, number];
  /** Where f' jumps (or, for Reciprocal, blows up): random inputs stay away from these. */
  kinks: number[];
  /** Inputs for the hand-computed case, on every piece of f. */
  hand: number[];
  /** f'(x), by hand. */
  slope: (x: number) => number;
}

const UNARY: Unary[] = [
  { op: 'Elu', range: [-2, 2], kinks: [0], hand: [-1.5, -0.2, 0.3, 2], slope: (x) => (x > 0 ? 1 : Math.exp(x)) },
  { op: 'Elu', attrs: { alpha: 0.5 }, range: [-2, 2], kinks: [0], hand: [-1.5, 0.7], slope: (x) => (x > 0 ? 1 : 0.5 * Math.exp(x)) },
  { op: 'Selu', range: [-2, 2], kinks: [0], hand: [-1, -0.1, 0.4], slope: (x) => (x > 0 ? SELU_GAMMA : SELU_GAMMA * SELU_ALPHA * Math.exp(x)) },
  { op: 'Selu', attrs: { alpha: 2, gamma: 1.5 }, range: [-2, 2], kinks: [0], hand: [-0.5, 0.5], slope: (x) => (x > 0 ? 1.5 : 3 * Math.exp(x)) },
  // defaults alpha 0.2, beta 0.5: linear on (-2.5, 2.5)
  { op: 'HardSigmoid', range: [-4, 4], kinks: [-2.5, 2.5], hand: [-3, -1, 2, 3], slope: (x) => (Math.abs(x) < 2.5 ? 0.2 : 0) },
  { op: 'HardSigmoid', attrs: { alpha: 0.5, beta: 0.25 }, range: [-2, 2], kinks: [-0.5, 1.5], hand: [-1, 0, 1, 1.8], slope: (x) => (x > -0.5 && x < 1.5 ? 0.5 : 0) },
  { op: 'HardSwish', opset: 14, range: [-5, 5], kinks: [-3, 3], hand: [-4, -1, 0.5, 4], slope: (x) => (x < -3 ? 0 : x > 3 ? 1 : x / 3 + 0.5) },
  { op: 'Softsign', range: [-3, 3], kinks: [], hand: [-2, 0.5], slope: (x) => 1 / (1 + Math.abs(x)) ** 2 },
  { op: 'Reciprocal', range: [-2, 2], kinks: [-0.4, 0, 0.4], hand: [-2, 0.5, 1.25], slope: (x) => -1 / (x * x) },
];

// Reciprocal's zero is a pole, not a kink: everything within 0.4 of it is excluded (a 0.05 gap around +-0.4 and 0
// leaves (-0.35, 0.35) open, so its range starts the generator outside it).
const valuesFor = (u: Unary, n: number, seed: number) =>
  u.op === 'Reciprocal' ? awayFromKinks(n, [0.45, 2], [], seed).map((v, i) => (i % 2 ? -v : v)) : awayFromKinks(n, u.range, u.kinks, seed);

const floatAttrs = (u: Unary) => (u.attrs ? Object.fromEntries(Object.entries(u.attrs).map(([k, v]) => [k, float(v)])) : undefined);
const label = (u: Unary) => `${u.op}${u.attrs ? JSON.stringify(u.attrs) : ''}`;

describe('extra pointwise gradients', () => {
  it.each(UNARY.map((u) => [label(u), u] as const))('%s: dx = dy * f\'(x) by hand', async (_, u) => {
    const m = makeOpModel({ op: u.op, attrs: floatAttrs(u), opset: u.opset, inputs: [{ name: 'x', shape: [u.hand.length], kind: 'param', values: u.hand }] });
    const { grads } = await computeGradients(m);
    expectClose(grads.x.data, u.hand.map((x, i) => m.weights[0][i] * u.slope(x)), 1e-5, label(u));
  });

  it.each(UNARY.flatMap((u) => [[label(u), [6], u], [label(u), [2, 1, 4], u]] as const))('%s %j matches central differences', async (_, shape, u) => {
    const values = valuesFor(u, count([...shape]), 11);
    const m = makeOpModel({ op: u.op, attrs: floatAttrs(u), opset: u.opset, seed: 5, inputs: [{ name: 'x', shape: [...shape], kind: 'param', values }] });
    await checkGradients(m, { label: JSON.stringify(shape) });
  });
});
