import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelToBytes } from '../../src/model-io.js';
import { buildLeNet, buildMlp } from '../../src/models/builders.js';
import { validateModel } from '../../src/ir/index.js';

const MODELS = join(import.meta.dirname, '..', '..', 'models');

describe('sample models', () => {
  // The committed files are exactly what src/models/build-samples.ts writes: anyone can rebuild and check them.
  it.each([
    ['mnist-mlp.onnx', () => buildMlp({ hidden: [128], seed: 0 })],
    ['lenet5.onnx', () => buildLeNet({ seed: 0 })],
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

  it('rejects impossible widths', () => {
    expect(() => buildMlp({ hidden: [0] })).toThrow(/positive integers/);
  });
});
