// Gradients of whole compiled models against central differences, through onnxruntime.
// Seeds are fixed, so inputs and weights are the same on every run. Compiled steps are checked with stepGradcheck,
// which skips probes that straddle a Relu kink or change a MaxPool choice; the MLP's seed keeps its few Relu inputs
// clear of 0 by more than the probe moves them.
import { describe, expect, it } from 'vitest';
import { gradcheck } from '../../src/check/gradcheck.js';
import { attachLoss } from '../../src/compile/losses.js';
import { compileTrainStep } from '../../src/compile/compile.js';
import type { Model } from '../../src/ir/model.js';
import { attentionBlock, bnResidualCnn, randomFeeds, smallLeNet, smallMlp } from './models.js';
import { expectGradientsWithin, stepGradcheck } from './step-helpers.js';

const TOL = 2e-3;

/** Compiles with optimizer 'none' + gradients and checks them against central differences of the step's loss. */
async function checkCompiledStep(model: Model, label: string, opts: { batch: number; classes: number; eps?: number; samples?: number }) {
  const step = compileTrainStep(model, { loss: 'cross-entropy', optimizer: 'none', emitGradients: true });
  const feeds = randomFeeds(step.model, { batch: opts.batch, classes: opts.classes, seed: 2 });
  const results = await stepGradcheck(step, feeds, { eps: opts.eps ?? 1e-2, samples: opts.samples ?? 6 });
  expect(results.map((r) => r.param)).toEqual(step.params);
  // Kink-straddling probes are skipped; enough elements of every parameter must remain for the check to mean something.
  for (const r of results) expect(r.checked, `${label}: ${r.param} checked (${r.skipped} skipped)`).toBeGreaterThanOrEqual(2);
  expectGradientsWithin(results, TOL, label);
  return { step, results };
}

describe('whole-model gradients match central differences', () => {
  it('MLP 20-16-5 with Dropout (inference mode), via gradcheck on the model with its loss', async () => {
    const model = smallMlp({ dropout: true });
    expect(model.graph.nodes.some((n) => n.opType === 'Dropout')).toBe(true);
    const { loss } = attachLoss(model, { kind: 'cross-entropy' });
    model.graph.addOutput(loss);
    const feeds = randomFeeds(model, { batch: 4, classes: 5, seed: 2 });
    // Dropout's ratio is a scalar initializer, not a parameter: name the parameters.
    const params = ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias'];
    const results = await gradcheck({ model, loss: 'loss', feeds, params, eps: 1e-2, samplesPerParam: 8 });
    expect(results.map((r) => r.param)).toEqual(params);
    expectGradientsWithin(results, TOL, 'mlp');
  });

  it('MLP 20-16-5 compiled step (no Dropout)', async () => {
    await checkCompiledStep(smallMlp({ dropout: false }), 'mlp step', { batch: 4, classes: 5 });
  });

  it('LeNet-style CNN (Conv, MaxPool, Gemm) compiled step', async () => {
    await checkCompiledStep(smallLeNet(), 'lenet', { batch: 2, classes: 5 });
  });

  it('BatchNormalization + residual CNN, on the training-mode (batch statistics) step', async () => {
    const { step } = await checkCompiledStep(bnResidualCnn(), 'bn residual', { batch: 2, classes: 5 });
    // The check ran on the training-mode graph: BN nodes expose running statistics, which are carried, not trained.
    expect(step.carried.map((c) => c.input).sort()).toEqual(['bn1.running_mean', 'bn1.running_var', 'bn2.running_mean', 'bn2.running_var']);
    expect(step.params).toContain('bn1.weight');
    expect(step.params).not.toContain('bn1.running_mean');
  });

  it('attention block with LayerNormalization compiled step', async () => {
    await checkCompiledStep(attentionBlock(), 'attention', { batch: 3, classes: 3 });
  });
});
