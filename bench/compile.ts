/**
 * Compile-time benchmark: compiling a ResNet-50-sized graph into a train step, and what `regraft compile` does end
 * to end (read the model file, compile with Adam, write the step: the 25.6M parameters and their two Adam moments).
 * The light ResNet-50 of ONNX's backend data stores its weights as ConstantOfShape nodes; they are turned into
 * initializers first (so they are parameters), and its opset 9 is raised to 17 (every op it uses means the same
 * there), since training-mode BatchNormalization needs opset 14.
 */
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataType } from '../src/ir/dtype.js';
import type { Model } from '../src/ir/model.js';
import { floatTensor, numel, tensorToNumbers } from '../src/ir/tensor.js';
import { loadModel, modelFromBytes, saveModel } from '../src/model-io.js';
import { compileTrainStep } from '../src/compile/compile.js';
import { upgradeOpset } from '../src/passes/upgrade-opset.js';
import { Rng } from '../src/util/rng.js';

export const TARGET_SECONDS = 1;

/**
 * Replaces every ConstantOfShape with a constant shape by a float initializer of that shape: random (scaled by
 * 1/sqrt(fan-in), for runs) or zeros (when only the graph matters, e.g. compiling: VGG-19's 143M weights are
 * allocated in milliseconds instead of drawn in seconds).
 */
export function materializeConstantOfShape(model: Model, seed = 0, values: 'random' | 'zeros' = 'random'): number {
  const g = model.graph;
  const rng = new Rng(seed);
  let count = 0;
  for (const node of [...g.nodes]) {
    if (node.opType !== 'ConstantOfShape') continue;
    const shapeInput = node.input(0);
    const dims = shapeInput?.initializer ? tensorToNumbers(shapeInput.initializer) : undefined;
    if (!dims) continue;
    const out = node.output(0);
    const name = out.name;
    const fanIn = dims.slice(1).reduce((a, b) => a * b, 1) || 1;
    const data = values === 'zeros' ? new Float32Array(numel(dims)) : Float32Array.from({ length: numel(dims) }, () => rng.normal() / Math.sqrt(fanIn));
    const init = g.addInitializer(floatTensor(`${name}_init`, data, dims)).setTensorType(DataType.FLOAT, dims);
    out.replaceAllUsesWith(init);
    g.removeNode(node);
    count++;
  }
  g.cleanup();
  return count;
}

export function resnet50ForTraining(): Model {
  const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
  const path = join(root, 'test', 'fixtures', 'onnx-backend', 'light', 'light_resnet50.onnx');
  const model = modelFromBytes(readFileSync(path), path);
  upgradeOpset(model, 17);
  materializeConstantOfShape(model);
  return model;
}

export async function benchCompile(): Promise<string> {
  const runs: number[] = [];
  let nodes = 0;
  let params = 0;
  for (let i = 0; i < 3; i++) {
    const model = resnet50ForTraining();
    const t0 = performance.now();
    const step = compileTrainStep(model, { loss: 'mse', optimizer: 'sgd' });
    runs.push((performance.now() - t0) / 1000);
    nodes = step.model.graph.nodes.length;
    params = step.params.length;
  }
  const best = Math.min(...runs);
  return [
    `compile: light ResNet-50 (weights as initializers) -> train step with ${params} parameters, ${nodes} nodes`,
    `  compile time ${runs.map((r) => r.toFixed(3)).join(' s, ')} s (best ${best.toFixed(3)} s); target < ${TARGET_SECONDS} s: ${best < TARGET_SECONDS ? 'met' : 'MISSED'}`,
    await benchCompileAndWrite(),
  ].join('\n');
}

/** `regraft compile MODEL -o STEP --optimizer adam` on ResNet-50 with its 25.6M weights: read, compile, write. */
async function benchCompileAndWrite(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'regraft-bench-compile-'));
  try {
    const source = join(dir, 'resnet50.onnx');
    await saveModel(resnet50ForTraining(), source);
    const phases: { read: number; compile: number; write: number }[] = [];
    let bytes = 0;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const model = await loadModel(source);
      const t1 = performance.now();
      const step = compileTrainStep(model, { loss: 'cross-entropy', optimizer: { kind: 'adam' } });
      const t2 = performance.now();
      const out = join(dir, `step${i}.onnx`);
      await saveModel(step.model, out);
      const t3 = performance.now();
      bytes = statSync(out).size;
      await rm(out);
      phases.push({ read: (t1 - t0) / 1000, compile: (t2 - t1) / 1000, write: (t3 - t2) / 1000 });
    }
    const total = (p: (typeof phases)[number]) => p.read + p.compile + p.write;
    const best = phases.reduce((a, b) => (total(b) < total(a) ? b : a));
    const fmt = (x: number) => x.toFixed(2);
    return [
      `  read + compile (Adam) + write of ResNet-50 (${Math.round(statSync(source).size / 2 ** 20)} MiB in, ${Math.round(bytes / 2 ** 20)} MiB step out): ` +
        `${phases.map((p) => fmt(total(p))).join(' s, ')} s; best ${fmt(total(best))} s = read ${fmt(best.read)} + compile ${fmt(best.compile)} + write ${fmt(best.write)}; ` +
        `compile + write ${fmt(best.compile + best.write)} s, target < ${TARGET_SECONDS} s: ${best.compile + best.write < TARGET_SECONDS ? 'met' : 'MISSED'}`,
    ].join('\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
