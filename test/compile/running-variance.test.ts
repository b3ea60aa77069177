// BatchNormalization's running statistics after a training step are PyTorch's: the mean of the batch, and the
// unbiased batch variance (n / (n - 1), n = elements per channel), against torch.nn.BatchNorm2d's own update
// (test/fixtures/finetune/batchnorm2d.npz) and against the formula computed here in float64.
import { join } from 'node:path';
import { Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { compileTrainStep } from '../../src/compile/compile.js';
import { DataType, GraphBuilder, newModel } from '../../src/ir/index.js';
import { FINETUNE, floats, readNpz } from '../fixtures-npz.js';
import { openFeedableStep } from './step-helpers.js';

const ref = readNpz(join(FINETUNE, 'batchnorm2d.npz'));
const C = 3;

/** x [N, 3, H, W] -> BatchNormalization (ONNX momentum 0.9 = PyTorch's 0.1) -> y, with PyTorch's module state. */
function batchNormModel() {
  const model = newModel({ opset: 17 });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const x = g.addInput('x').setTensorType(DataType.FLOAT, ['N', C, 'H', 'W']);
  const init = (name: string, key: string) => b.floatInit(name, floats(ref.get(key)), [C]);
  const y = b.op('BatchNormalization', [x, init('bn.weight', 'weight'), init('bn.bias', 'bias'), init('bn.running_mean', 'running_mean'), init('bn.running_var', 'running_var')], { epsilon: Number(ref.get('eps')!.data[0]), momentum: 1 - Number(ref.get('momentum')!.data[0]) }, { output: 'y' });
  g.addOutput(y.setTensorType(DataType.FLOAT, ['N', C, 'H', 'W']));
  return model;
}

/** PyTorch's update, in float64: running_var' = (1 - 0.1) v + 0.1 * sum((x - mean)^2) / (n - 1). */
function expectedStatistics(x: Float32Array, dims: number[]) {
  const [n0, , h, w] = dims;
  const per = n0 * h * w;
  const mean = floats(ref.get('running_mean'));
  const variance = floats(ref.get('running_var'));
  const out = { mean: [] as number[], var: [] as number[] };
  for (let c = 0; c < C; c++) {
    const values: number[] = [];
    for (let i = 0; i < n0; i++) for (let k = 0; k < h * w; k++) values.push(x[(i * C + c) * h * w + k]);
    const mu = values.reduce((a, v) => a + v, 0) / per;
    const unbiased = values.reduce((a, v) => a + (v - mu) ** 2, 0) / (per - 1);
    out.mean.push(0.9 * mean[c] + 0.1 * mu);
    out.var.push(0.9 * variance[c] + 0.1 * unbiased);
  }
  return out;
}

async function stepStatistics(x: Float32Array, dims: number[]) {
  const step = compileTrainStep(batchNormModel(), { loss: 'mse', optimizer: 'sgd' });
  const fs = await openFeedableStep(step);
  try {
    const out = await fs.session.run({
      ...fs.initial,
      x: new Tensor('float32', x, dims),
      [step.labels]: new Tensor('float32', new Float32Array(x.length), dims),
      lr: new Tensor('float32', Float32Array.of(0), []),
    });
    const carried = (name: string) => out[step.carried.find((c) => c.input === name)!.output].data as Float32Array;
    return { mean: carried('bn.running_mean'), var: carried('bn.running_var') };
  } finally {
    await fs.release();
  }
}

describe('BatchNormalization running statistics follow PyTorch', () => {
  it("one training step on [4, 3, 5, 5] updates them as torch.nn.BatchNorm2d does (unbiased variance, n = 100)", async () => {
    const x = floats(ref.get('x'));
    const stats = await stepStatistics(x, ref.get('x')!.shape);
    const torchVar = floats(ref.get('running_var_after'));
    for (let c = 0; c < C; c++) {
      expect(Math.abs(stats.var[c] - torchVar[c])).toBeLessThan(2e-7 * torchVar[c] + 1e-7);
      expect(Math.abs(stats.mean[c] - floats(ref.get('running_mean_after'))[c])).toBeLessThan(1e-6);
    }
    const expected = expectedStatistics(x, ref.get('x')!.shape);
    for (let c = 0; c < C; c++) expect(Math.abs(stats.var[c] - expected.var[c])).toBeLessThan(1e-6 * expected.var[c]);
    // The biased update would be off by (1 - m) var_b / (n - 1), about 1e-3 here: far outside the tolerance.
  });

  it('n is counted at run time: another batch and image size gets its own n / (n - 1)', async () => {
    const dims = [2, C, 3, 1];
    const x = Float32Array.from({ length: 18 }, (_, i) => Math.sin(i * 1.3) * (1 + (i % 3)));
    const stats = await stepStatistics(x, dims);
    const expected = expectedStatistics(x, dims);
    for (let c = 0; c < C; c++) {
      expect(Math.abs(stats.var[c] - expected.var[c])).toBeLessThan(1e-6 * expected.var[c]);
      expect(Math.abs(stats.mean[c] - expected.mean[c])).toBeLessThan(1e-6);
    }
  });
});
