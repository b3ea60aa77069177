import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelToBytes } from '../../src/model-io.js';
import { buildLeNet, buildMlp } from '../../src/models/builders.js';
import { sineData } from '../../src/models/sine-data.js';
import { encodeNpy } from '../../src/data/npy.js';
import { validateModel } from '../../src/ir/index.js';

const MODELS = join(import.meta.dirname, '..', '..', 'models');
const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples');

describe('sample models', () => {
  // The committed files are exactly what src/models/build-samples.ts writes: anyone can rebuild and check them.
  it.each([
    ['mnist-mlp.onnx', () => buildMlp({ hidden: [128], seed: 0 })],
    ['lenet5.onnx', () => buildLeNet({ seed: 0 })],
    ['sine-mlp.onnx', () => buildMlp({ inputs: 1, hidden: [32], classes: 1, seed: 0, output: 'prediction' })],
  ])('%s is reproducible from its builder', (file, build) => {
    const model = build();
    expect(validateModel(model)).toEqual([]);
    expect(Buffer.compare(Buffer.from(modelToBytes(model)), readFileSync(join(MODELS, file)))).toBe(0);
  });

  it('the MLP is the article network, in PyTorch export form', () => {
    const m = buildMlp({ hidden: [128], sampleShape: [1, 28, 28] });
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(['Flatten', 'Gemm', 'Relu', 'Gemm']);
    expect(m.graph.requireValue('fc1.weight').shape).toEqual([128, 784]);
    expect(m.graph.nodes[1].attrs.int('transB')).toBe(1);
    expect(m.graph.outputs.map((v) => v.shape)).toEqual([['N', 10]]);
  });

  it.each([
    ['sine-train', 2000, 1],
    ['sine-test', 500, 2],
  ] as const)('examples/%s-{x,y}.npy are reproducible from sineData', (name, n, seed) => {
    const { x, y } = sineData(n, seed);
    expect(Buffer.compare(Buffer.from(encodeNpy('<f4', [n, 1], x)), readFileSync(join(EXAMPLES, `${name}-x.npy`)))).toBe(0);
    expect(Buffer.compare(Buffer.from(encodeNpy('<f4', [n], y)), readFileSync(join(EXAMPLES, `${name}-y.npy`)))).toBe(0);
    // The noise is small (sd 0.05): every target stays near sin(x).
    x.forEach((v, i) => expect(Math.abs(y[i] - Math.sin(v))).toBeLessThan(0.3));
  });

  it('rejects impossible widths', () => {
    expect(() => buildMlp({ hidden: [0] })).toThrow(/positive integers/);
  });
});
