import type { Command } from 'commander';
import { exportRun } from '../training/export.js';
import type { CliIo } from './context.js';
import { parseChoice } from './options.js';

export function registerExport(program: Command, io: CliIo): void {
  program
    .command('export')
    .description("write a run's inference model: trained weights, Dropout and every training-only node stripped, checked in onnxruntime")
    .argument('<run-dir>', "the --out directory of 'regraft train'")
    .requiredOption('-o, --output <file>', 'output ONNX model')
    .option('--checkpoint <which>', 'best (lowest validation loss, default) or last', parseChoice('--checkpoint', ['best', 'last'] as const))
    .option('--fold-batchnorm', 'fold BatchNormalization into the Conv, ConvTranspose, Gemm or MatMul feeding it')
    .action(async (runDir: string, opts: { output: string; checkpoint?: 'best' | 'last'; foldBatchnorm?: boolean }) => {
      const report = await exportRun(runDir, opts.output, { checkpoint: opts.checkpoint, foldBatchNorm: opts.foldBatchnorm });
      const worst = Math.max(...report.verify.outputs.map((o) => o.maxAbsDiff));
      if (report.batchNorm) {
        io.out(`folded ${report.batchNorm.folded.length} BatchNormalization node(s)`);
        for (const s of report.batchNorm.skipped) io.out(`kept BatchNormalization '${s.bn}': ${s.reason}`);
      }
      io.out(`wrote ${opts.output} from ${report.checkpoint} (epoch ${report.epoch}); matches the eval model (max |diff| ${worst.toExponential(2)})`);
    });
}
