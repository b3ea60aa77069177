// Losses attached by attachLoss, run through onnxruntime: values against direct JS computations, gradients against
// the closed forms (prediction = a parameter P, so dloss/dP is the loss's own derivative) and against central
// differences of a compiled step (Gemm -> loss).
import { Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { expectClose } from '../autodiff/helpers.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/dtype.js';
import { newModel, type Model } from '../../src/ir/model.js';
import { compileTrainStep } from '../../src/compile/compile.js';
import { attachLoss, LOSS_KINDS, type LossKind } from '../../src/compile/losses.js';
import { Rng } from '../../src/util/rng.js';
import { randomFeeds } from './models.js';
import { expectGradientsWithin, openFeedableStep, scalarOf, stepGradcheck } from './step-helpers.js';

const N = 3;
const C = 4;
// Logits with a large pair (+-30) so bce-logits must be computed stably; targets in [0, 1] for bce.
const PRED = [0.5, -1.2, 2.0, 0.1, -0.3, 0.8, -2.5, 1.7, 30, -30, 0.05, -0.6];
const TARGET = [0.2, -1.0, 1.0, 0.9, 0.0, 0.5, 1.0, 0.3, 1.0, 0.0, 0.7, 0.4];
const LABELS = [2, 1, 0];
// causal-lm reads [N, T, V] logits: its cases are in token-losses.test.ts.
const LOSSES_ON_N_C = LOSS_KINDS.filter((k) => k !== 'causal-lm');

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

/** Loss value and dloss/dprediction, computed directly in float64. */
function reference(kind: Exclude<LossKind, 'causal-lm'>): { loss: number; grad: number[] } {
  const n = PRED.length;
  switch (kind) {
    case 'cross-entropy': {
      let loss = 0;
      const grad: number[] = [];
      for (let i = 0; i < N; i++) {
        const row = PRED.slice(i * C, (i + 1) * C);
        const max = Math.max(...row);
        const z = row.reduce((s, x) => s + Math.exp(x - max), 0);
        loss += -(row[LABELS[i]] - max - Math.log(z)) / N;
        row.forEach((x, j) => grad.push((Math.exp(x - max) / z - (j === LABELS[i] ? 1 : 0)) / N));
      }
      return { loss, grad };
    }
    case 'mse':
      return { loss: PRED.reduce((s, y, i) => s + (y - TARGET[i]) ** 2, 0) / n, grad: PRED.map((y, i) => (2 * (y - TARGET[i])) / n) };
    case 'mse-half':
      return { loss: PRED.reduce((s, y, i) => s + (y - TARGET[i]) ** 2, 0) / (2 * n), grad: PRED.map((y, i) => (y - TARGET[i]) / n) };
    case 'bce-logits':
      return { loss: PRED.reduce((s, y, i) => s + softplus(y) - y * TARGET[i], 0) / n, grad: PRED.map((y, i) => (sigmoid(y) - TARGET[i]) / n) };
    case 'l1':
      return { loss: PRED.reduce((s, y, i) => s + Math.abs(y - TARGET[i]), 0) / n, grad: PRED.map((y, i) => Math.sign(y - TARGET[i]) / n) };
  }
}

/** output = Identity(P), P [N, C] a parameter holding PRED: the loss's gradient wrt P is dloss/dprediction. */
function predictionModel(): Model {
  const model = newModel({ opset: 17 });
  const b = new GraphBuilder(model.graph);
  const y = b.op('Identity', [b.floatInit('P', Float32Array.from(PRED), [N, C])], {}, { name: 'prediction' });
  y.setTensorType(DataType.FLOAT, [N, C]);
  model.graph.addOutput(y);
  return model;
}

function labelsFeed(kind: LossKind): Tensor {
  return kind === 'cross-entropy'
    ? new Tensor('int64', BigInt64Array.from(LABELS.map(BigInt)), [N])
    : new Tensor('float32', Float32Array.from(TARGET), [N, C]);
}

/** x [N, 6] -> Gemm(W [C, 6], b) -> prediction [N, C]. */
function gemmModel(seed: number): Model {
  const rng = new Rng(seed);
  const model = newModel({ opset: 17 });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const x = g.addInput('input').setTensorType(DataType.FLOAT, [N, 6]);
  const w = b.floatInit('W', Float32Array.from({ length: C * 6 }, () => rng.uniform(-0.5, 0.5)), [C, 6]);
  const bias = b.floatInit('bias', Float32Array.from({ length: C }, () => rng.uniform(-0.5, 0.5)), [C]);
  const y = b.op('Gemm', [x, w, bias], { transB: 1 }, { name: 'fc' });
  y.setTensorType(DataType.FLOAT, [N, C]);
  g.addOutput(y);
  return model;
}

describe('attachLoss', () => {
  it.each(LOSSES_ON_N_C)('%s: value and dloss/dprediction match the definitions', async (kind) => {
    const step = compileTrainStep(predictionModel(), { loss: kind, optimizer: 'none', emitGradients: true });
    const fs = await openFeedableStep(step);
    try {
      const out = await fs.session.run({ ...fs.initial, [step.labels]: labelsFeed(kind) });
      const ref = reference(kind);
      expect(scalarOf(out[step.loss])).toBeCloseTo(ref.loss, 5);
      expectClose(out[step.gradients.P].data as Float32Array, ref.grad, 1e-5, `${kind} gradient`);
    } finally {
      await fs.release();
    }
  });

  it.each(LOSSES_ON_N_C)('%s: gradients through a Gemm match central differences', async (kind) => {
    const step = compileTrainStep(gemmModel(4), { loss: kind, optimizer: 'none', emitGradients: true });
    const feeds = randomFeeds(step.model, { batch: N, seed: 9 });
    feeds[step.labels] = labelsFeed(kind);
    const results = await stepGradcheck(step, feeds, { eps: 1e-2, samples: 8 });
    expect(results.map((r) => r.param)).toEqual(['W', 'bias']);
    expectGradientsWithin(results, 2e-3, kind);
  });

  it('labels: int64 [N] class indices for cross-entropy, float shaped like the output for regression losses', () => {
    const ce = predictionModel();
    expect(attachLoss(ce, { kind: 'cross-entropy' }).labels.elemType).toBe(DataType.INT64);
    expect(ce.graph.requireValue('labels').shape).toEqual([N]);
    const mse = predictionModel();
    const { labels, loss } = attachLoss(mse, { kind: 'mse' });
    expect(labels.elemType).toBe(DataType.FLOAT);
    expect(labels.shape).toEqual([N, C]);
    expect(loss.name).toBe('loss');
    expect(loss.shape).toEqual([]);
  });

  it('refuses a model that already has a labels value, and cross-entropy below opset 12', () => {
    const taken = predictionModel();
    taken.graph.addInput('labels').setTensorType(DataType.INT64, [N]);
    expect(() => attachLoss(taken, { kind: 'cross-entropy' })).toThrow(/already has a value named 'labels'/);
    const old = newModel({ opset: 11 });
    const b = new GraphBuilder(old.graph);
    old.graph.addOutput(b.op('Identity', [b.floatInit('P', Float32Array.from(PRED), [N, C])]));
    expect(() => attachLoss(old, { kind: 'cross-entropy' })).toThrow(/opset 12/);
  });
});
