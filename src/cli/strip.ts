import type { Command } from 'commander';
import { cloneModel } from '../ir/clone.js';
import { loadModelWithInfo, saveModel } from '../model-io.js';
import { foldBatchNormPass } from '../passes/fold-batchnorm.js';
import { finishPipeline, runPass } from '../passes/runner.js';
import { stripTraining, stripTrainingPass } from '../passes/strip-training.js';
import { assertVerified, verifyEquivalent } from '../check/equivalence.js';
import type { CliIo } from './context.js';
import { parseList } from './options.js';
import { MC_DROPOUT_NAME } from '../training-interface.js';

interface StripFlags {
  output: string;
  keepOutputs?: string[];
  foldBatchnorm?: boolean;
  mcDropout?: boolean;
}

const list = (names: string[]) => (names.length > 0 ? names.join(', ') : 'none');

/** `regraft strip MODEL -o OUT [--keep-outputs a,b]`: training graph or training-mode export -> inference model. */
export function registerStrip(program: Command, io: CliIo): void {
  program
    .command('strip')
    .description('remove everything training-only (Dropout, loss, gradients, optimizer, labels/lr) and put BatchNormalization in inference mode')
    .argument('<model>', 'ONNX model to read')
    .requiredOption('-o, --output <file>', 'where to write the inference model')
    .option('--fold-batchnorm', 'also fold BatchNormalization into the Conv, ConvTranspose, Gemm or MatMul feeding it (checked in onnxruntime)')
    .option('--keep-outputs <names>', 'comma list of the inference outputs to keep (default: every output that is not loss, *_grad, *.updated, *_new or running statistics)', parseList)
    .option('--mc-dropout', `keep Dropout behind a bool input '${MC_DROPOUT_NAME}' (default false) for Monte-Carlo Dropout: 'regraft run MODEL --mc-samples N'`)
    .action(async (modelPath: string, flags: StripFlags) => {
      const loaded = await loadModelWithInfo(modelPath);
      const model = loaded.model;
      // The runner lets strip only take inputs away; --mc-dropout adds exactly one, the switch, so it runs the pass
      // itself and then what the runner ends every pipeline with.
      const result = flags.mcDropout ? stripTraining(model, { keepOutputs: flags.keepOutputs, mcDropout: true }) : runPass(model, stripTrainingPass, { keepOutputs: flags.keepOutputs });
      if (flags.mcDropout) finishPipeline(model);
      if (flags.foldBatchnorm) {
        // Proven like export's: the folded model must infer as the stripped one does, or nothing is written.
        const unfolded = cloneModel(model);
        const folding = runPass(model, foldBatchNormPass, {});
        if (folding.folded.length > 0) assertVerified(await verifyEquivalent(unfolded, model));
        io.out(`folded ${folding.folded.length} BatchNormalization node(s) (checked in onnxruntime)`);
        for (const k of folding.skipped) io.out(`kept BatchNormalization '${k.bn}': ${k.reason}`);
      }
      await saveModel(model, flags.output, { sourceExternalData: loaded.externalData });
      io.out(`removed outputs: ${list(result.removedOutputs)}`);
      io.out(`removed inputs: ${list(result.removedInputs)}`);
      if (result.foldedParameters.length > 0) io.out(`parameters folded into initializers: ${result.foldedParameters.length}`);
      const dropouts = flags.mcDropout ? `${result.keptDropouts} Dropout kept behind input '${MC_DROPOUT_NAME}' (default false)` : `${result.removedDropouts} Dropout removed`;
      io.out(
        `wrote ${flags.output}: ${dropouts}, ${result.batchNormsToInference} BatchNormalization switched to inference mode; outputs ${list(model.graph.outputs.map((v) => v.name))}`,
      );
    });
}
