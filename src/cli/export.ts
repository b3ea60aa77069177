import type { Command } from 'commander';
import { exportRun } from '../training/export.js';
import type { CliIo } from './context.js';
import { parseChoice } from './options.js';
import { MC_DROPOUT_NAME } from '../training-interface.js';

export function registerExport(program: Command, io: CliIo): void {
  program
    .command('export')
    .description("write a run's inference model: trained weights, Dropout and every training-only node stripped, checked in onnxruntime")
    .argument('<run-dir>', "the --out directory of 'regraft train'")
    .requiredOption('-o, --output <file>', 'output ONNX model')
    .option('--checkpoint <which>', 'best (lowest validation loss, default) or last', parseChoice('--checkpoint', ['best', 'last'] as const))
    .option('--fold-batchnorm', 'fold BatchNormalization into the Conv, ConvTranspose, Gemm or MatMul feeding it')
    .option('--mc-dropout', `keep Dropout behind a bool input '${MC_DROPOUT_NAME}' (default false) for Monte-Carlo Dropout: 'regraft run MODEL --mc-samples N'`)
    .action(async (runDir: string, opts: { output: string; checkpoint?: 'best' | 'last'; foldBatchnorm?: boolean; mcDropout?: boolean }) => {
      const report = await exportRun(runDir, opts.output, { checkpoint: opts.checkpoint, foldBatchNorm: opts.foldBatchnorm, mcDropout: opts.mcDropout });
      const worst = Math.max(...report.verify.outputs.map((o) => o.maxAbsDiff));
      if (report.batchNorm) {
        io.out(`folded ${report.batchNorm.folded.length} BatchNormalization node(s)`);
        for (const s of report.batchNorm.skipped) io.out(`kept BatchNormalization '${s.bn}': ${s.reason}`);
      }
      if (opts.mcDropout) io.out(`kept ${report.keptDropouts} Dropout behind input '${MC_DROPOUT_NAME}' (false: the plain model's answers; true: Monte-Carlo passes)`);
      io.out(`wrote ${opts.output} from ${report.checkpoint} (epoch ${report.epoch}); matches the eval model (max |diff| ${worst.toExponential(2)})`);
    });
}
