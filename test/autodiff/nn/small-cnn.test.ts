import { describe, expect, it } from 'vitest';
import { gradcheck } from '../../../src/check/gradcheck.js';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { DataType } from '../../../src/ir/dtype.js';
import { newModel } from '../../../src/ir/model.js';
import { floatTensor } from '../../../src/ir/tensor.js';
import { floatTensor as ortFloat, int64Tensor } from '../../../src/runtime/tensors.js';
import { Rng } from '../../../src/util/rng.js';
import { distinctValues } from './nn-helpers.js';

describe('NN rules composed', () => {
  it('differentiate a small CNN end to end (static shapes flow through the NN shape rules)', async () => {
    // x [2,1,6,6] -> Conv(W1,b1,pads 1) -> BatchNormalization(train) -> MaxPool(2,2) -> Conv(W2, stride 2, group 1)
    //   -> AveragePool(2, pads 1) -> GlobalAveragePool -> Flatten -> SoftmaxCrossEntropyLoss(labels) = loss
    const model = newModel({ opset: 17 });
    const g = model.graph;
    const b = new GraphBuilder(g);
    const rng = new Rng(11);
    const param = (name: string, dims: number[], lo = -1, hi = 1) => {
      const data = Float32Array.from({ length: dims.reduce((a, n) => a * n, 1) }, () => rng.uniform(lo, hi));
      return g.addInitializer(floatTensor(name, data, dims), { exactName: true });
    };
    const x = g.addInput('x').setTensorType(DataType.FLOAT, [2, 1, 6, 6]);
    const labels = g.addInput('labels').setTensorType(DataType.INT64, [2]);
    const h1 = b.op('Conv', [x, param('W1', [3, 1, 3, 3]), param('b1', [3])], { pads: [1, 1, 1, 1] });
    const [h2, runningMean, runningVar] = b.ops('BatchNormalization', [h1, param('gamma', [3], 0.5, 1.5), param('beta', [3]), param('mean', [3]), param('var', [3], 0.5, 1)], { training_mode: 1 }, 3);
    const h3 = b.op('MaxPool', [h2], { kernel_shape: [2, 2], strides: [2, 2] });
    const h4 = b.op('Conv', [h3, param('W2', [4, 3, 2, 2])], { strides: [2, 2], pads: [0, 0, 1, 1] });
    const h5 = b.op('AveragePool', [h4], { kernel_shape: [2, 2], pads: [1, 1, 0, 0] });
    const logits = b.op('Flatten', [b.op('GlobalAveragePool', [h5])]);
    g.addOutput(b.op('SoftmaxCrossEntropyLoss', [logits, labels], {}, { output: 'loss' }));
    g.addOutput(runningMean);
    g.addOutput(runningVar);

    const feeds = {
      x: ortFloat(Float32Array.from(distinctValues(72, 7)), [2, 1, 6, 6]),
      labels: int64Tensor(BigInt64Array.from([1n, 3n]), [2]),
    };
    const results = await gradcheck({ model, loss: 'loss', feeds, params: ['W1', 'b1', 'gamma', 'beta', 'W2'], eps: 1e-3, samplesPerParam: 10 });
    expect(results.map((r) => r.param)).toEqual(['W1', 'b1', 'gamma', 'beta', 'W2']);
    for (const r of results) {
      // Training-mode BatchNormalization subtracts the batch mean, so the bias before it has no effect: its gradient
      // is zero (up to rounding) and only the absolute error means anything.
      if (r.param === 'b1') expect(r.maxAbsError, r.param).toBeLessThan(5e-4);
      else expect(r.maxRelError, r.param).toBeLessThan(2e-2);
    }
  });
});
