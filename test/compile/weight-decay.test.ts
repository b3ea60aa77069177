// What weight decay covers, as Hugging Face's Trainer groups parameters (no_decay: biases and LayerNorm weights):
// AdamW's decoupled decay and the L2 penalty take the same selection, and a tied tensor is decayed once.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { compileTrainStep, type CompileOptions } from '../../src/compile/compile.js';
import { tensorToFloat32 } from '../../src/ir/tensor.js';
import { loadModel } from '../../src/model-io.js';
import { FINETUNE, transformerFixture } from '../fixtures-npz.js';
import { openFeedableStep } from './step-helpers.js';

const decay = JSON.parse(readFileSync(join(FINETUNE, 'references.json'), 'utf8')).decay as Record<string, Record<string, string[]>>;
const bert = transformerFixture('bert');
const LR = 0.01;
const WD = 0.1;

/** One step on BERT's reference batch; the parameters after it by name. */
async function updatedParameters(opts: CompileOptions): Promise<Map<string, Float32Array>> {
  const step = compileTrainStep(await loadModel(bert.model('dynamo')), opts);
  const fs = await openFeedableStep(step);
  try {
    const out = await fs.session.run({ ...fs.initial, ...bert.batch(), [step.lr!]: new Tensor('float32', Float32Array.of(LR), []) });
    return new Map(step.params.map((p) => [p, out[step.carried.find((c) => c.input === p)!.output].data as Float32Array]));
  } finally {
    await fs.release();
  }
}

describe('weight decay leaves biases and normalization parameters out', () => {
  it("AdamW decays exactly Hugging Face's decay group on BERT (dynamo): p_adamw = p_adam - lr wd p there, p_adam elsewhere", async () => {
    const model = await loadModel(bert.model('dynamo'));
    const adam = await updatedParameters({ loss: 'cross-entropy', optimizer: { kind: 'adam' } });
    const adamw = await updatedParameters({ loss: 'cross-entropy', optimizer: { kind: 'adamw', weightDecay: WD } });
    const decayed: string[] = [];
    for (const [name, p] of adamw) {
      const w = tensorToFloat32(model.graph.requireValue(name).initializer!);
      const a = adam.get(name)!;
      const shift = p.map((x, i) => x - a[i]);
      if (shift.every((d) => d === 0)) continue;
      decayed.push(name);
      // The decoupled term (1e-3 w), to float32 rounding of the updated parameters (about 2 ulp).
      shift.forEach((d, i) => expect(Math.abs(d + LR * WD * w[i])).toBeLessThan(1e-10 + 2.5e-7 * Math.max(Math.abs(w[i]), Math.abs(a[i]))));
    }
    expect(decayed.sort()).toEqual(decay.bert.dynamo);
    const step = compileTrainStep(await loadModel(bert.model('dynamo')), { loss: 'cross-entropy', optimizer: { kind: 'adamw' } });
    expect(step.decayed.sort()).toEqual(decay.bert.dynamo);
  });

  it("--penalize all decays every parameter, as torch.optim.AdamW over one group", async () => {
    const step = compileTrainStep(await loadModel(bert.model('dynamo')), { loss: 'cross-entropy', optimizer: { kind: 'adamw' }, penaltyParams: 'all' });
    expect(step.decayed.sort()).toEqual([...step.params].sort());
  });

  it('L2 on GPT-2 (dynamo): the same group, the tied embedding and head penalized once, as their one tensor', async () => {
    const gpt2 = transformerFixture('gpt2');
    const [embedding, head] = gpt2.meta.exports.dynamo.tied[0];
    const step = compileTrainStep(await loadModel(gpt2.model('dynamo')), { loss: 'mse', l2: 1e-2, optimizer: 'sgd' });
    expect(decay.gpt2.dynamo).toEqual(expect.arrayContaining([embedding, head]));
    expect(step.penalized.sort()).toEqual(decay.gpt2.dynamo.filter((n) => n !== head).sort());
    // --untie: two tensors, each penalized.
    const untied = compileTrainStep(await loadModel(gpt2.model('dynamo')), { loss: 'mse', l2: 1e-2, optimizer: 'sgd', untie: true });
    expect(untied.penalized.sort()).toEqual(decay.gpt2.dynamo);
  });
});
