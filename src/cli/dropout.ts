import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { loadModel, loadModelWithInfo, saveModel } from '../model-io.js';
import { DEFAULT_DROPOUT_RATIO, insertDropoutPass } from '../passes/insert-dropout.js';
import { TRAINING_MODE_NAME } from '../training-interface.js';
import { runPass } from '../passes/runner.js';
import { assertVerified, formatVerifyReport, verifyEquivalent } from '../check/equivalence.js';
import type { CliIo } from './context.js';
import { parseDropoutRatio, parseList, parseNumber } from './options.js';

interface DropoutFlags {
  output: string;
  after?: string[];
  afterNode?: string[];
  afterTensor?: string[];
  ratio?: number;
  seed?: number;
  allowOutputs?: boolean;
  verify?: boolean;
}

/** `regraft dropout MODEL -o OUT --after OPS [...]`: inserts Dropout and prints one line per inserted node. */
export function registerDropout(program: Command, io: CliIo): void {
  program
    .command('dropout')
    .description('insert Dropout after the chosen op types, nodes or tensors (inference is unchanged)')
    .argument('<model>', 'ONNX model to read')
    .requiredOption('-o, --output <file>', 'where to write the rewritten model')
    .option('--after <ops>', 'comma list of op types whose output gets a Dropout, e.g. Relu,Gelu', parseList)
    .option('--after-node <globs>', "comma list of node-name globs, e.g. 'fc*'", parseList)
    .option('--after-tensor <names>', 'comma list of value names', parseList)
    .option('--ratio <r>', `drop probability in [0, 1) (default ${DEFAULT_DROPOUT_RATIO})`, parseDropoutRatio('--ratio'))
    .option('--seed <n>', 'seed of the Dropout random generator (opset 12 and later)', parseNumber('--seed', { integer: true, min: 0 }))
    .option('--allow-outputs', 'also put Dropout on graph outputs (they keep their names)')
    .option('--verify', 'check in onnxruntime that the rewritten model infers exactly like the original')
    .action(async (modelPath: string, flags: DropoutFlags) => {
      if (!flags.after && !flags.afterNode && !flags.afterTensor) {
        throw new UsageError('dropout: say where to insert Dropout with --after OPS, --after-node GLOBS or --after-tensor NAMES');
      }
      const loaded = await loadModelWithInfo(modelPath);
      const model = loaded.model;
      const result = runPass(model, insertDropoutPass, {
        after: flags.after,
        afterNode: flags.afterNode,
        afterTensor: flags.afterTensor,
        ratio: flags.ratio,
        seed: flags.seed,
        allowGraphOutputs: flags.allowOutputs,
      });
      for (const d of result.inserted) io.out(`inserted ${d.node} after ${d.after}: '${d.input}' -> '${d.output}'`);
      for (const s of result.skipped) io.out(`skipped '${s.value}': ${s.reason}`);
      for (const w of result.warnings) io.err(`warning: ${w}`);
      if (flags.verify) {
        const report = await verifyEquivalent(await loadModel(modelPath), model);
        io.out(formatVerifyReport(report));
        assertVerified(report);
      }
      await saveModel(model, flags.output, { sourceExternalData: loaded.externalData });
      const ratio = flags.ratio ?? DEFAULT_DROPOUT_RATIO;
      const mode = result.form === 'Dropout-12' ? `, switched by bool initializer '${TRAINING_MODE_NAME}' (false: inference)` : ' (ratio attribute, identity in inference)';
      io.out(`wrote ${flags.output}: ${result.inserted.length} Dropout inserted, ratio ${ratio}, ${result.form} form${mode}`);
    });
}
