// The transformer and RNN fixtures (test/fixtures/transformers/: each model exported with TorchScript and dynamo,
// with PyTorch's loss and gradient per initializer) compile into a training step whose loss and every gradient
// equal PyTorch's, and the same compiled step trains another batch size and sequence length than the reference
// batch's (3 x 10) where the export allows it. One step per fixture and export serves every assertion.
import { Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { compileTrainStep, type CompileOptions, type TrainStep } from '../../src/compile/compile.js';
import type { NpyContents } from '../../src/data/npy.js';
import type { Model } from '../../src/ir/model.js';
import { modelToBytes } from '../../src/model-io.js';
import { recurrenceLengthDims } from '../../src/passes/decompose-rnn.js';
import { createSession, type Session } from '../../src/runtime/session.js';
import { EXPORTERS, feedsOf, fixtureModel, largestMagnitude, loadFixture, referenceGradients, referenceLoss, sliceBatch, type Fixture } from '../transformer-fixtures.js';
import { openFeedableStep, scalarOf } from './step-helpers.js';

/** Each fixture's loss as its README and meta.json `loss` describe it; `shift`: the causal-LM loss. */
const LOSSES: Record<string, { opts: Pick<CompileOptions, 'loss' | 'classAxis'>; shift?: boolean; classesLast?: boolean }> = {
  bert: { opts: { loss: 'cross-entropy' } },
  distilbert: { opts: { loss: 'cross-entropy' } },
  vit: { opts: { loss: 'cross-entropy' } },
  'transformer-encoder': { opts: { loss: 'cross-entropy' } },
  gru: { opts: { loss: 'cross-entropy' } },
  lstm: { opts: { loss: 'cross-entropy' } },
  'bert-token': { opts: { loss: 'cross-entropy', classAxis: -1 }, classesLast: true },
  gpt2: { opts: { loss: 'causal-lm' }, shift: true, classesLast: true },
};

/** The recurrence length dims (LSTM/GRU are unrolled over time) at the batch's sizes; none for the others. */
const recurrenceDims = (model: Model, batch: Map<string, NpyContents>) =>
  dimsOfData(model, recurrenceLengthDims(model), Object.fromEntries([...batch].map(([k, a]) => [k, a.shape])));

/**
 * The step with loss and gradients only, training what PyTorch calls parameters, each initializer on its own
 * (`untie`: the references hold GPT-2's embedding and head gradients apart; tied-weights.test.ts checks their sum),
 * compiled for the fixed sizes `dims` (every other dim stays symbolic).
 */
function compileFixture(f: Fixture, model: Model, dims: Record<string, number>): TrainStep {
  return compileTrainStep(model, {
    ...LOSSES[f.name].opts,
    optimizer: 'none',
    emitGradients: true,
    freeze: f.nonParameters,
    untie: true,
    dims,
  });
}

/**
 * The other batch size and sequence length each export is trained at with the reference batch's step. A recurrent
 * step is unrolled for one length (another needs `compile --dim sequence=T`): it changes the batch size only.
 */
function otherSize(name: string, exporter: string): { batch: number; sequence?: number } {
  if (name === 'vit') return { batch: 2 }; // 8x8 images: no sequence axis
  if (name === 'gru' || name === 'lstm') return { batch: 2 };
  // The TorchScript export of nn.TransformerEncoder baked the example's length 10 into attention
  // (test/ir/shape/transformer-shapes.test.ts shows onnxruntime refusing another length).
  if (name === 'transformer-encoder' && exporter === 'torchscript') return { batch: 2, sequence: 10 };
  return { batch: 2, sequence: 7 };
}

/** max |got - want| over the largest |want| of all the step's gradients, worst parameter first. */
function gradientErrors(step: TrainStep, got: Record<string, Tensor>, want: Map<string, Float32Array>): { param: string; error: number }[] {
  const scale = largestMagnitude(want.values());
  return step.params
    .map((param) => {
      const g = got[step.gradients[param]].data as Float32Array;
      const w = want.get(param)!;
      if (g.length !== w.length) return { param, error: Infinity };
      let err = 0;
      for (let i = 0; i < w.length; i++) err = Math.max(err, Math.abs(g[i] - w[i]));
      return { param, error: err / scale };
    })
    .sort((a, b) => b.error - a.error);
}

const gradientsOf = (step: TrainStep, out: Record<string, Tensor>) => new Map(step.params.map((p) => [p, out[step.gradients[p]].data as Float32Array]));

/**
 * The loss's central difference along the unit direction of the whole gradient, against the gradient's norm (the
 * derivative along that direction): a step of size h downhill lowers the loss by |g| h to first order.
 */
async function slopeAlongGradient(session: Session, step: TrainStep, base: Record<string, Tensor>, grads: Map<string, Float32Array>, h: number) {
  let norm = 0;
  for (const g of grads.values()) for (const x of g) norm += x * x;
  norm = Math.sqrt(norm);
  const lossAt = async (sign: number) => {
    const feeds = { ...base };
    for (const [p, g] of grads) {
      const w = base[p].data as Float32Array;
      feeds[p] = new Tensor('float32', w.map((x, i) => x + (sign * h * g[i]) / norm), base[p].dims);
    }
    return scalarOf((await session.run(feeds))[step.loss]);
  };
  return { slope: ((await lossAt(1)) - (await lossAt(-1))) / (2 * h), norm };
}

describe.each(Object.keys(LOSSES))('%s', (name) => {
  it.each(EXPORTERS)("%s export: loss and every gradient equal PyTorch's; the same step trains another batch and length", async (exporter) => {
    const f = loadFixture(name, exporter);
    const model = await fixtureModel(f);
    expect([LOSSES[name].opts.loss, LOSSES[name].classesLast ? -1 : 1]).toEqual([f.loss.kind, f.loss.class_axis]);
    const started = performance.now();
    const step = compileFixture(f, model, recurrenceDims(model, f.batch));
    const compileSeconds = (performance.now() - started) / 1000;
    expect([...step.params].sort()).toEqual(f.meta.parameters.map((p) => p.initializer).sort());
    const fs = await openFeedableStep(step);
    const forward = await createSession(modelToBytes(model), { name: `${name} ${exporter}` });
    try {
      // The reference batch against PyTorch.
      const out = await fs.session.run({ ...fs.initial, ...feedsOf(f) });
      const loss = scalarOf(out[step.loss]);
      const pytorchLoss = Number((f.reference.get('loss')!.data as Float64Array)[0]);
      expect(Math.abs(loss - pytorchLoss) / Math.abs(pytorchLoss)).toBeLessThan(1e-5);
      const errors = gradientErrors(step, out, referenceGradients(f));
      expect(errors.filter((e) => !(e.error < 1e-5)), 'max |diff| over the largest PyTorch gradient').toEqual([]);

      // Another size, same step: the loss is PyTorch's formula on the model's own logits; the gradients are those of
      // a step compiled for that size (every bound folded to a constant) and give the loss's slope.
      const size = otherSize(name, exporter);
      const batch = sliceBatch(f.batch, size.batch, size.sequence);
      const feeds = feedsOf(f, batch);
      const { labels, ...inputs } = feeds;
      const logits = (await forward.run(inputs)).logits;
      const expected = referenceLoss(logits.data as Float32Array, logits.dims, labels.data as BigInt64Array, { shift: LOSSES[name].shift });
      const base = { ...fs.initial, ...feeds };
      const other = await fs.session.run(base);
      expect(Math.abs(scalarOf(other[step.loss]) - expected) / expected).toBeLessThan(1e-5);
      const grads = gradientsOf(step, other);
      const dims = { ...recurrenceDims(model, batch), batch: size.batch, ...(size.sequence === undefined ? {} : { sequence: size.sequence }) };
      const fixed = compileFixture(f, model, dims);
      const fixedStep = await openFeedableStep(fixed);
      try {
        const folded = gradientsOf(fixed, await fixedStep.session.run({ ...fixedStep.initial, ...feeds }));
        const off = gradientErrors(step, other, folded).filter((e) => !(e.error < 1e-5));
        expect(off, `N=${size.batch}, T=${size.sequence}: against the step compiled for that size`).toEqual([]);
      } finally {
        await fixedStep.release();
      }
      const { slope, norm } = await slopeAlongGradient(fs.session, step, base, grads, 1e-2);
      expect(Math.abs(slope - norm) / norm, `slope ${slope} along the gradient of norm ${norm}`).toBeLessThan(1e-2);
      console.log(
        `${name} ${exporter}: compiled in ${compileSeconds.toFixed(2)} s, ${step.model.graph.nodes.length} nodes; loss ${loss} (PyTorch ${pytorchLoss}); ` +
          `worst gradient ${errors[0].error.toExponential(2)} of the largest (${errors[0].param}); N=${size.batch} T=${size.sequence ?? '-'}: slope ${(Math.abs(slope - norm) / norm).toExponential(2)} off`,
      );
    } finally {
      await forward.release();
      await fs.release();
    }
  });
});

/**
 * The sizes the data has for some symbolic dims: each name is looked up where a data input declares it as a dim
 * of its own (`x: [batch, sequence, 6]` with data of shape [320, 12, 6] gives sequence = 12).
 */
function dimsOfData(model: Model, names: readonly string[], shapes: Readonly<Record<string, readonly number[]>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of names) {
    for (const v of model.graph.inputs) {
      const axis = v.shape?.indexOf(name) ?? -1;
      const data = shapes[v.name];
      if (axis >= 0 && data && axis < data.length) {
        out[name] = data[axis];
        break;
      }
    }
    if (!(name in out)) throw new Error(`dim '${name}': no data input declares it as one of its dims, so the data cannot give its size; give it with --dim ${name}=SIZE`);
  }
  return out;
}
