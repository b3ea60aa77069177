import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/data/index.js';
import { tensorToFloat32, validateModel, type Model } from '../../src/ir/index.js';
import { floatTensor as irFloatTensor } from '../../src/ir/tensor.js';
import { loadModel, modelToBytes } from '../../src/model-io.js';
import { createSession, ortFloatTensor } from '../../src/runtime/index.js';
import { compileEvalModel } from '../../src/compile/compile.js';
import { evaluateModelFile } from '../../src/evaluate/classification.js';
import { exportRun } from '../../src/training/export.js';
import { train, type TrainResult } from '../../src/training/trainer.js';
import { runCli } from '../cli/helpers.js';
import { bytesOf, checkpointTensors, MNIST_SUBSET, tempDir, writeMnistNpy, writeSmallMlp } from './fixtures/runs.js';

const dir = tempDir('export');
const TRAINING_ONLY = ['Dropout', 'SoftmaxCrossEntropyLoss', 'NegativeLogLikelihoodLoss'];
let run: TrainResult;
let testData: string;

beforeAll(async () => {
  // Dropout after every Relu, so export has something to strip. Validation labels shifted by one class make the
  // validation loss rise after epoch 1: best (epoch 1) and last (epoch 2) are different weights.
  const valData = await writeMnistNpy(dir, 'shifted', 100, (y) => (y + 1) % 10);
  testData = await writeMnistNpy(dir, 'test500', 500);
  const model = await writeSmallMlp(dir);
  run = await train({ model, data: MNIST_SUBSET, limit: 400, valData, batchSize: 32, epochs: 2, lr: 0.1, dropoutAfter: ['Relu'], out: join(dir, 'run') });
  expect(run.bestEpoch).toBe(1);
});

/** The run's model with a checkpoint's weights, in the eval form the trainer validates with (Dropout off). */
async function evalModelOf(which: 'best' | 'last'): Promise<Model> {
  const model = await loadModel(join(run.runDir, 'model.onnx'));
  for (const [name, t] of await checkpointTensors(run.runDir, which)) {
    const v = model.graph.value(name);
    if (v?.initializer) v.initializer = irFloatTensor(name, t.data, t.dims);
  }
  return compileEvalModel(model, { loss: 'cross-entropy', withLoss: false }).model;
}

async function logitsOf(model: Model, features: Float32Array, n: number): Promise<Float32Array> {
  const session = await createSession(modelToBytes(model));
  try {
    const out = await session.run({ input: ortFloatTensor(features, [n, 784]) });
    return out.logits.data as Float32Array;
  } finally {
    await session.release();
  }
}

describe('exportRun', () => {
  for (const [which, epoch] of [['best', 1], ['last', 2]] as const) {
    it(`--checkpoint ${which}: no training-only op, valid, the checkpoint's weights, the eval model's outputs`, async () => {
      const output = join(dir, `exported-${which}.onnx`);
      const report = await exportRun(run.runDir, output, { checkpoint: which });
      expect(report).toMatchObject({ output, checkpoint: join(run.runDir, 'checkpoints', `${which}.onnx`), epoch, parameters: 4 });
      expect(report.verify.ok).toBe(true);

      const exported = await loadModel(output);
      expect(exported.graph.nodes.map((n) => n.opType).filter((op) => TRAINING_ONLY.includes(op))).toEqual([]);
      expect(exported.graph.inputs.filter((v) => !v.initializer).map((v) => v.name)).toEqual(['input']);
      expect(exported.graph.outputs.map((v) => v.name)).toEqual(['logits']);
      expect(validateModel(exported)).toEqual([]);

      const trained = await checkpointTensors(run.runDir, which);
      for (const name of ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']) {
        expect(bytesOf(tensorToFloat32(exported.graph.requireValue(name).initializer!)).equals(bytesOf(trained.get(name)!.data)), name).toBe(true);
      }

      // Real digits rather than verifyEquivalent's random inputs: the same logits as the eval model, bit for bit.
      const ds = await loadDataset(MNIST_SUBSET);
      const features = ds.features.subarray(0, 64 * 784);
      expect(await logitsOf(exported, features, 64)).toEqual(await logitsOf(await evalModelOf(which), features, 64));
    });
  }

  it('best and last differ when the validation loss peaked early', async () => {
    const best = await loadModel(join(dir, 'exported-best.onnx'));
    const last = await loadModel(join(dir, 'exported-last.onnx'));
    const w = (m: Model) => bytesOf(tensorToFloat32(m.graph.requireValue('fc2.weight').initializer!));
    expect(w(best).equals(w(last))).toBe(false);
  });
});

describe('regraft export and regraft eval', () => {
  it('the exported model scores in `regraft eval --json` what evaluateModelFile computes in onnxruntime', async () => {
    const output = join(dir, 'cli-export.onnx');
    const exp = await runCli('export', run.runDir, '-o', output, '--checkpoint', 'last');
    expect(exp.err).toEqual([]);
    expect(exp.code).toBe(0);
    expect(exp.out).toHaveLength(1);
    expect(exp.out[0]).toMatch(new RegExp(`^wrote ${output} from .*last\\.onnx \\(epoch 2\\); matches the eval model`));

    const reference = await evaluateModelFile(output, testData);
    const evalRun = await runCli('eval', output, '--data', testData, '--json');
    expect(evalRun.code).toBe(0);
    expect(evalRun.out).toHaveLength(1);
    const printed = JSON.parse(evalRun.out[0]) as { accuracy: number; loss: number; samples: number };
    expect(Object.keys(printed)[0]).toBe('accuracy');
    expect(printed.accuracy).toBe(reference.accuracy);
    expect(printed.loss).toBe(reference.loss);
    expect(printed.samples).toBe(500);
    // Two epochs on 400 digits: well above chance.
    expect(printed.accuracy).toBeGreaterThan(0.5);
  });

  it('a missing run directory is a one-line error, exit 1, and no output file', async () => {
    const output = join(dir, 'nothing.onnx');
    const missing = join(dir, 'no-such-run');
    const r = await runCli('export', missing, '-o', output);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([`regraft: ${missing}: not a regraft run directory (no config.json); pass the --out directory of 'regraft train'`]);
    expect(existsSync(output)).toBe(false);
  });

  it('a run without checkpoints yet is a one-line error, exit 1, and no output file', async () => {
    const fresh = join(dir, 'fresh-run');
    mkdirSync(fresh);
    for (const f of ['config.json', 'model.onnx']) copyFileSync(join(run.runDir, f), join(fresh, f));
    const output = join(dir, 'nothing-yet.onnx');
    for (const which of ['best', 'last']) {
      const r = await runCli('export', fresh, '-o', output, '--checkpoint', which);
      expect(r.code).toBe(1);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).toMatch(new RegExp(`^regraft: ${fresh}: no ${which} checkpoint yet \\(.*${which}\\.onnx\\); train at least one epoch$`));
    }
    expect(existsSync(output)).toBe(false);
  });

  it('a damaged config.json is a one-line error naming it (exit 1)', async () => {
    const damaged = join(dir, 'damaged-run');
    mkdirSync(damaged);
    writeFileSync(join(damaged, 'config.json'), '{"model": ');
    const r = await runCli('export', damaged, '-o', join(dir, 'damaged.onnx'));
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(new RegExp(`^regraft: ${join(damaged, 'config.json')}: cannot read the run's settings \\(.+\\); restore the file or start a new run$`));
  });

  it('--checkpoint takes only best or last (usage error, exit 2)', async () => {
    const r = await runCli('export', run.runDir, '-o', join(dir, 'x.onnx'), '--checkpoint', 'first');
    expect(r.code).toBe(2);
    expect(existsSync(join(dir, 'x.onnx'))).toBe(false);
  });
});
