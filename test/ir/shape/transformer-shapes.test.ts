// Shape analysis on the transformer and RNN fixtures (test/fixtures/transformers/): every value of every export gets
// a fully known shape (symbolic where it depends on the batch or sequence length), and those shapes are what
// onnxruntime computes, at the reference batch and at another batch size and sequence length.
import { describe, expect, it } from 'vitest';
import { inferShapes } from '../../../src/ir/shape/infer.js';
import type { Value } from '../../../src/ir/value.js';
import { substituteDim } from '../../../src/ir/shape/symbolic-dims.js';
import { modelToBytes } from '../../../src/model-io.js';
import { createSession } from '../../../src/runtime/session.js';
import { CLASSIFIERS, EXPORTERS, feedsOf, fixtureModel, loadFixture, sliceBatch, TOKEN_MODELS } from '../../transformer-fixtures.js';

/** Batch sizes and sequence lengths to run at; the TorchScript transformer-encoder export runs at T = 10 only. */
function sizes(name: string, exporter: string): [number, number][] {
  if (name === 'transformer-encoder' && exporter === 'torchscript') return [[3, 10], [2, 10]];
  return [[3, 10], [2, 7]];
}

describe.each([...CLASSIFIERS, ...TOKEN_MODELS])('%s', (name) => {
  it.each(EXPORTERS)('%s export: every value has a fully inferred shape, equal to onnxruntime\'s', async (exporter) => {
    const f = loadFixture(name, exporter);
    const model = await fixtureModel(f);
    inferShapes(model.graph);
    const values = model.graph.nodes.flatMap((n) => n.outputs.filter((o): o is Value => o !== null && o.isRead));
    const unknown = values.filter((v) => !v.shape || v.shape.includes(null)).map((v) => `${v.name} ${JSON.stringify(v.shape)}`);
    expect(unknown).toEqual([]);

    for (const v of values) if (!v.isGraphOutput) model.graph.addOutput(v);
    const session = await createSession(modelToBytes(model), { name: `${name} ${exporter}` });
    try {
      for (const [n, t] of sizes(name, exporter)) {
        const feeds = feedsOf(f, sliceBatch(f.batch, n, t));
        delete feeds.labels;
        const fetched = await session.run(feeds);
        const wrong = values.flatMap((v) => {
          const want = [...fetched[v.name].dims];
          const got = v.shape!.map((d) => substituteDim(d, { batch: n, sequence: t }));
          return JSON.stringify(got) === JSON.stringify(want) ? [] : [`${v.name}: inferred ${JSON.stringify(v.shape)}, ran as ${JSON.stringify(want)}`];
        });
        expect(wrong, `N=${n}, T=${t}`).toEqual([]);
      }
    } finally {
      await session.release();
    }
  });
});

it('the TorchScript transformer-encoder export runs at its example length only (a baked 10 in attention)', async () => {
  const f = loadFixture('transformer-encoder', 'torchscript');
  const session = await createSession(modelToBytes(await fixtureModel(f)), { name: 'transformer-encoder' });
  try {
    const feeds = feedsOf(f, sliceBatch(f.batch, 2, 7));
    delete feeds.labels;
    await expect(session.run(feeds)).rejects.toThrow(/Reshape/);
  } finally {
    await session.release();
  }
});
