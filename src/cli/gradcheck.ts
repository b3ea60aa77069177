import type { Command } from 'commander';
import type { Tensor } from '../runtime/onnxruntime.js';
import { gradcheck } from '../check/gradcheck.js';
import { randomFloats, randomInts } from '../check/random-inputs.js';
import { RegraftError } from '../errors.js';
import { DataType } from '../ir/dtype.js';
import { loadModel } from '../model-io.js';
import { addPenalty } from '../passes/add-penalty.js';
import { attachLoss, type LossKind } from '../compile/losses.js';
import { LOSS_NAME } from '../training-interface.js';
import { Rng } from '../util/rng.js';
import type { CliIo } from './context.js';
import { lossOption, settingOption } from './flags.js';
import { parseNumber } from './options.js';

interface GradcheckFlags {
  loss: LossKind;
  batch: number;
  seed: number;
  eps: number;
  samples: number;
  l2?: number;
  l1?: number;
  tolerance: number;
}

export function registerGradcheck(program: Command, io: CliIo): void {
  program
    .command('gradcheck')
    .description("compare regraft's compiled gradients with central differences on random inputs; prints the worst relative error per parameter")
    .argument('<model>', 'ONNX model')
    .addOption(lossOption(true))
    .option('--batch <n>', 'size of symbolic batch dims in the generated inputs', parseNumber('--batch', { min: 1, integer: true }), 2)
    .option('--seed <n>', 'seed of the generated inputs', parseNumber('--seed', { integer: true }), 0)
    .option('--eps <x>', 'central-difference step', parseNumber('--eps', { min: 1e-8 }), 1e-2)
    .option('--samples <n>', 'elements checked per parameter', parseNumber('--samples', { min: 1, integer: true }), 8)
    .addOption(settingOption('l2'))
    .addOption(settingOption('l1'))
    .option('--tolerance <x>', 'fail (exit 1) when a relative error exceeds this (float32 differences resolve ~1e-3 on smooth models, ~1e-2 in early layers of deep ones; a wrong rule is off by O(1))', parseNumber('--tolerance', { min: 0 }), 5e-2)
    .action(async (path: string, flags: GradcheckFlags) => {
      const model = await loadModel(path);
      const { loss, labels, prediction } = attachLoss(model, { kind: flags.loss });
      model.graph.addOutput(loss);
      if (flags.l2 || flags.l1) addPenalty(model, { loss: loss.name, l2: flags.l2, l1: flags.l1 });
      const rng = new Rng(flags.seed);
      const feeds: Record<string, Tensor> = {};
      for (const input of model.graph.inputs.filter((v) => !v.initializer && v !== labels)) {
        const dims = concreteDims(input.shape, input.name, flags.batch);
        if (input.elemType !== DataType.FLOAT) throw new RegraftError(`gradcheck: input '${input.name}' is not float; only float data inputs can be generated`);
        feeds[input.name] = randomFloats(dims, () => rng.normal());
      }
      const predDims = concreteDims(prediction.shape, prediction.name, flags.batch);
      if (flags.loss === 'cross-entropy') {
        feeds[labels.name] = randomInts(rng, [predDims[0]], predDims[1] ?? 2);
      } else {
        // bce-logits reads 0/1 targets; the other losses any real ones.
        feeds[labels.name] = randomFloats(predDims, () => (flags.loss === 'bce-logits' ? rng.int(2) : rng.normal()));
      }
      const results = await gradcheck({ model, loss: LOSS_NAME, feeds, eps: flags.eps, samplesPerParam: flags.samples, seed: flags.seed });
      let worst = 0;
      let unchecked = 0;
      for (const r of results) {
        const skipped = r.skipped > 0 ? `, ${r.skipped} skipped at kinks` : '';
        if (r.checked === 0) {
          unchecked++;
          io.out(`${r.param.padEnd(32)} not checked: every probe crossed a ReLU/MaxPool kink (${r.skipped} tried); try another --seed or --batch 1`);
          continue;
        }
        worst = Math.max(worst, r.maxRelError);
        io.out(`${r.param.padEnd(32)} max rel error ${r.maxRelError.toExponential(2)}  (max abs ${r.maxAbsError.toExponential(2)}, ${r.checked} elements${skipped})`);
      }
      const note = unchecked > 0 ? ` (${unchecked} not checked)` : '';
      io.out(`worst relative error ${worst.toExponential(2)} over ${results.length - unchecked} parameters${note}`);
      if (worst > flags.tolerance) throw new RegraftError(`gradcheck: worst relative error ${worst.toExponential(2)} exceeds --tolerance ${flags.tolerance}`);
    });
}

function concreteDims(shape: (number | string | null)[] | undefined, name: string, batch: number): number[] {
  if (!shape) throw new RegraftError(`gradcheck: '${name}' has no declared shape; declare the model's input shapes`);
  return shape.map((d) => (typeof d === 'number' ? d : batch));
}
