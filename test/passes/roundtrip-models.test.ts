import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Model } from '../../src/ir/index.js';
import { modelFromBytes } from '../../src/model-io.js';
import { verifyEquivalent } from '../../src/check/equivalence.js';
import { insertDropoutPass, runPasses, step, stripTrainingPass } from '../../src/passes/index.js';
import { clone, cnn, histogram, mlp, withoutOp } from './models.js';

const LIGHT = join(import.meta.dirname, '..', 'fixtures', 'onnx-backend', 'light');
const light = (name: string) => () => modelFromBytes(readFileSync(join(LIGHT, `light_${name}.onnx`)), name);

/**
 * Dropout after every Relu, then strip: the op histogram comes back (minus the Dropout the model had of its own,
 * which strip removes too), and both the Dropout model and the stripped model infer like the original.
 * squeezenet (opset 9, has a legacy Dropout-7 with mask) and resnet50 (opset 9, BatchNormalization) are the light
 * models small enough to run in about a second each; their weights are ConstantOfShape nodes.
 */
describe.each([
  ['PyTorch-style MLP', mlp],
  ['PyTorch-style CNN', cnn],
  ['light squeezenet', light('squeezenet')],
  ['light resnet50', light('resnet50')],
] as [string, () => Model][])('insert Dropout after Relu, then strip: %s', (_label, load) => {
  it('gives back the original ops and inference', async () => {
    const original = load();
    const relus = histogram(original).Relu;
    const withDropout = clone(original);
    const inserted = runPasses(withDropout, [step(insertDropoutPass, { after: ['Relu'], ratio: 0.2, seed: 5 })]);
    expect(inserted.modified).toBe(true);
    expect(histogram(withDropout).Dropout).toBe(relus + (histogram(original).Dropout ?? 0));

    const stripped = clone(withDropout);
    runPasses(stripped, [step(stripTrainingPass, {})]);
    expect(histogram(stripped)).toEqual(withoutOp(histogram(original), 'Dropout'));
    expect(stripped.graph.inputs.map((v) => v.name)).toEqual(original.graph.inputs.map((v) => v.name));
    expect(stripped.graph.outputs.map((v) => v.name)).toEqual(original.graph.outputs.map((v) => v.name));

    for (const rewritten of [withDropout, stripped]) {
      const report = await verifyEquivalent(original, rewritten, { seed: 3 });
      expect(report.outputs.map((o) => [o.name, o.allclose])).toEqual(original.graph.outputs.map((v) => [v.name, true]));
    }
  });
});
