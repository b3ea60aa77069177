import { Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { gradcheck } from '../../src/check/gradcheck.js';
import { DataType, GraphBuilder, newModel } from '../../src/ir/index.js';
import { runCli } from '../cli/helpers.js';

// loss = ReduceSum(Relu(w * x)), one weight per element: w[0] sits 1e-3 from the kink, closer than eps.
function reluModel(w0: number) {
  const m = newModel();
  const b = new GraphBuilder(m.graph);
  const x = m.graph.addInput('x').setTensorType(DataType.FLOAT, [3]);
  const w = b.floatInit('w', [w0, 0.5, -0.7], [3]);
  m.graph.addOutput(b.op('ReduceSum', [b.op('Relu', [b.mul(w, x)])], { keepdims: 0 }, { output: 'loss' }));
  return m;
}

describe('gradcheck', () => {
  const feeds = { x: new Tensor('float32', new Float32Array([1, 2, 3]), [3]) };

  it('retries a probe that crosses a ReLU kink with a smaller step instead of reporting the jump', async () => {
    // |w0| = 1e-3 < eps = 1e-2, but > eps / 16: the quartered steps stay on one side.
    const [r] = await gradcheck({ model: reluModel(1e-3), loss: 'loss', feeds, eps: 1e-2 });
    expect(r.checked).toBe(3);
    expect(r.maxRelError).toBeLessThan(1e-3);
  });

  it('skips (and counts) an element whose every probe crosses the kink', async () => {
    const [r] = await gradcheck({ model: reluModel(1e-5), loss: 'loss', feeds, eps: 1e-2 });
    expect(r.skipped).toBe(1);
    expect(r.checked).toBe(2);
    expect(r.maxRelError).toBeLessThan(1e-3);
  });

  it('regraft gradcheck passes on LeNet-5 (ReLU and MaxPool kinks) and says what it skipped', async () => {
    const run = await runCli('gradcheck', 'models/lenet5.onnx', '--loss', 'cross-entropy', '--samples', '4');
    expect(run.code, run.err.join('\n')).toBe(0);
    expect(run.out.length).toBe(11);
    expect(run.out.at(-1)).toMatch(/^worst relative error \S+ over \d+ parameters/);
  });
});
