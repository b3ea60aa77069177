// The transformer and RNN fixtures compile into a training step whose loss and every gradient equal PyTorch's
// (test/fixtures/transformers/: each model exported with TorchScript and dynamo, with PyTorch's reference), and one
// compiled step trains other batch sizes and sequence lengths than the reference batch.
import { describe, expect, it } from 'vitest';
import { compileTrainStep, type TrainStep } from '../../src/compile/compile.js';
import { recurrenceLengthDims } from '../../src/passes/decompose-rnn.js';
import { dimsOfData } from '../../src/passes/fix-input-dims.js';
import type { Model } from '../../src/ir/model.js';
import { CLASSIFIERS, EXPORTERS, feedsOf, fixtureModel, largestMagnitude, loadFixture, referenceGradients, type Fixture } from './transformer-fixtures.js';
import { openFeedableStep, scalarOf } from './step-helpers.js';

/** The step with loss and gradients only, training what PyTorch calls parameters; RNNs for the batch's length. */
export function compileFixture(f: Fixture, model: Model, shapes: Record<string, readonly number[]>): TrainStep {
  const dims = dimsOfData(model, recurrenceLengthDims(model), shapes);
  return compileTrainStep(model, { loss: 'cross-entropy', optimizer: 'none', emitGradients: true, freeze: f.nonParameters, dims });
}

const shapesOf = (f: Fixture) => Object.fromEntries([...f.batch].map(([k, a]) => [k, a.shape]));

describe.each(CLASSIFIERS)('%s', (name) => {
  it.each(EXPORTERS)('%s export: loss and every gradient equal PyTorch\'s (1e-5 of the largest gradient)', async (exporter) => {
    const f = loadFixture(name, exporter);
    const model = await fixtureModel(f);
    const started = performance.now();
    const step = compileFixture(f, model, shapesOf(f));
    const compileSeconds = (performance.now() - started) / 1000;
    const reference = referenceGradients(f);
    expect([...step.params].sort()).toEqual(f.meta.parameters.map((p) => p.initializer).sort());

    const fs = await openFeedableStep(step);
    try {
      const out = await fs.session.run({ ...fs.initial, ...feedsOf(f) });
      const loss = scalarOf(out[step.loss]);
      const pytorchLoss = Number((f.reference.get('loss')!.data as Float64Array)[0]);
      expect(Math.abs(loss - pytorchLoss) / Math.abs(pytorchLoss)).toBeLessThan(1e-5);
      const scale = largestMagnitude(reference.values());
      let worst = 0;
      for (const p of step.params) {
        const want = reference.get(p)!;
        const got = out[step.gradients[p]].data as Float32Array;
        expect(got.length, p).toBe(want.length);
        let err = 0;
        for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
        worst = Math.max(worst, err / scale);
        expect(err / scale, `${p}: max |diff| ${err.toExponential(2)} against the largest gradient ${scale.toExponential(2)}`).toBeLessThan(1e-5);
      }
      console.log(`${name} ${exporter}: compiled in ${compileSeconds.toFixed(2)} s, ${step.model.graph.nodes.length} nodes; loss ${loss} (PyTorch ${pytorchLoss}); worst gradient error ${worst.toExponential(2)} of the largest`);
    } finally {
      await fs.release();
    }
  });
});
