import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// The README's API example, run against the built package the way a pipeline imports it (`from 'regraft'`,
// resolved through package.json's exports), with the training shortened.
const ROOT = join(import.meta.dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'regraft-api-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the package API', () => {
  it('runs the README example end to end', () => {
    const script = join(ROOT, `.api-example-${process.pid}.mjs`);
    writeFileSync(
      script,
      `
import { loadModel, saveModel, insertDropout, compileTrainStep, train, exportRun, newModel, GraphBuilder, DataType, float, validateModel } from 'regraft';
const model = await loadModel('models/mnist-mlp.onnx');
insertDropout(model, { after: ['Relu'], ratio: 0.5, seed: 1 });
const step = compileTrainStep(model, { loss: 'cross-entropy', l2: 1e-4, optimizer: 'adam', emitGradients: true });
await saveModel(step.model, ${JSON.stringify(join(scratch, 'step.onnx'))});
const epochs = [];
const result = await train(
  { model: 'models/mnist-mlp.onnx', data: 'mnist:test', limit: 2000, out: ${JSON.stringify(join(scratch, 'run'))}, epochs: 2, dropoutAfter: ['Relu'], l2: 1e-5 },
  { onEpoch: (m) => { epochs.push(m.val_accuracy); } },
);
await exportRun(result.runDir, ${JSON.stringify(join(scratch, 'mnist.onnx'))});
const m = newModel({ opset: 17 });
const b = new GraphBuilder(m.graph);
const x = m.graph.addInput('x').setTensorType(DataType.FLOAT, ['N', 4]);
const w = b.floatInit('w', new Float32Array(12), [3, 4]);
const y = b.op('Gemm', [x, w], { transB: 1, alpha: float(1) });
m.graph.addOutput(b.op('Relu', [y], {}, { output: 'y' }));
console.log(JSON.stringify({ params: step.params, epochs, issues: validateModel(m).length }));
`,
    );
    try {
      const r = spawnSync(process.execPath, [script], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
      expect(out.params).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
      expect(out.epochs).toHaveLength(2);
      expect(out.issues).toBe(0);
    } finally {
      rmSync(script, { force: true });
    }
  });

  it('exports the function of every command the README names', () => {
    const names = ['upgradeOpset', 'replaceHead', 'decomposeRecurrent', 'stripTraining', 'verifyEquivalent', 'evaluateModelFile', 'evaluateTargetsFile', 'tune'];
    const script = join(ROOT, `.api-names-${process.pid}.mjs`);
    writeFileSync(script, `import * as regraft from 'regraft';\nconsole.log(JSON.stringify(${JSON.stringify(names)}.map((n) => typeof regraft[n])));\n`);
    try {
      const r = spawnSync(process.execPath, [script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual(names.map(() => 'function'));
    } finally {
      rmSync(script, { force: true });
    }
  });
});
