// `train --ep cuda` (where CUDA starts) and `compile --ep cuda` say in one line which nodes of the step onnxruntime's
// CUDA provider has no kernel for (they run on CPU); a step that places whole gets no line, and without --ep cuda
// nothing changes.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GraphBuilder, type Model } from '../../src/ir/index.js';
import { buildMlp } from '../../src/models/builders.js';
import { loadModel } from '../../src/model-io.js';
import { probeInstalledCuda } from '../../src/runtime/index.js';
import { RUN_FILES } from '../../src/training/run-dir.js';
import { MNIST_SUBSET, tempDir, writeModel, writeSmallMlp } from '../training/fixtures/runs.js';
import { runCli } from './helpers.js';

const dir = tempDir('regraft-cuda-placement-');

// x -> Gemm -> Relu -> Gemm -> Mean(., .) -> logits: Mean has no CUDA kernel (onnxruntime has it on CPU only).
function mlpWithMean(): Model {
  const m = buildMlp({ hidden: [16], seed: 1 });
  const g = m.graph;
  const logits = g.outputs[0];
  g.removeOutput(logits);
  logits.rename('pre_mean');
  const mean = new GraphBuilder(g).op('Mean', [logits, logits], {}, { output: 'logits' });
  mean.setTensorType(logits.elemType!, logits.shape ?? undefined);
  g.addOutput(mean);
  return m;
}

const LINE = /^onnxruntime's CUDA provider has no kernel for (\d+) nodes? of the train step \((.+)\); they run on CPU with copies around them$/;

describe('--ep cuda names the nodes of the step that run on CPU', () => {
  it('compile: one line for a step with Mean; none for the MLP, nor without --ep cuda', async () => {
    const withMean = await writeModel(mlpWithMean(), dir, 'mean.onnx');
    const r = await runCli('compile', withMean, '-o', join(dir, 'mean-step.onnx'), '--loss', 'cross-entropy', '--optimizer', 'adam', '--ep', 'cuda');
    expect(r.code, r.err.join('\n')).toBe(0);
    const lines = r.out.filter((l) => l.includes('CUDA provider'));
    expect(lines).toHaveLength(1);
    // The forward Mean only: its gradient is a Div, which CUDA has.
    expect(lines[0].trim()).toMatch(LINE);
    expect(LINE.exec(lines[0].trim())!.slice(1)).toEqual(['1', 'Mean']);

    const plain = await runCli('compile', withMean, '-o', join(dir, 'mean-step-cpu.onnx'), '--loss', 'cross-entropy', '--optimizer', 'adam');
    expect(plain.out.filter((l) => l.includes('CUDA provider'))).toEqual([]);
    const mlp = await runCli('compile', await writeSmallMlp(dir), '-o', join(dir, 'mlp-step.onnx'), '--loss', 'cross-entropy', '--optimizer', 'adam', '--ep', 'cuda');
    expect(mlp.code).toBe(0);
    expect(mlp.out.filter((l) => l.includes('CUDA provider'))).toEqual([]);
  });

  it('train: the same line once where CUDA starts; where it falls back, a step compiled for CPU and no line', async () => {
    const withMean = await writeModel(mlpWithMean(), dir, 'mean-train.onnx');
    const out = join(dir, 'run');
    const r = await runCli('train', withMean, '--data', MNIST_SUBSET, '--limit', '100', '--epochs', '1', '--ep', 'cuda', '--out', out, '--no-tensorboard');
    expect(r.code, r.err.join('\n')).toBe(0);
    const lines = r.out.filter((l) => LINE.test(l));
    const step = await loadModel(join(out, RUN_FILES.step));
    const lossOps = step.graph.nodes.map((n) => n.opType).filter((op) => op === 'SoftmaxCrossEntropyLoss' || op === 'LogSoftmax');
    if (probeInstalledCuda().available) {
      expect(lines).toHaveLength(1);
      expect(LINE.exec(lines[0])!.slice(1)).toEqual(['1', 'Mean']);
      expect(lossOps).toEqual(['LogSoftmax']);
    } else {
      // The provider is chosen before the step is compiled: the CPU step keeps onnxruntime's fused loss.
      expect(r.out.filter((l) => l.startsWith('CUDA unavailable'))).toHaveLength(1);
      expect(lines).toEqual([]);
      expect(lossOps).toEqual(['SoftmaxCrossEntropyLoss']);
    }
  });
});
