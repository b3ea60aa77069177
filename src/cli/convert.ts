import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { loadModel, loadModelWithInfo, saveModel } from '../model-io.js';
import { DEFAULT_TARGET_OPSET, MAX_TARGET_OPSET, MIN_TARGET_OPSET, upgradeOpset } from '../passes/upgrade-opset.js';
import { assertVerified, formatVerifyReport, verifyEquivalent } from '../check/equivalence.js';
import type { CliIo } from './context.js';
import { parseNumber } from './options.js';

/** How many of the upgrade's per-node lines are printed; the rest are counted. */
const SHOWN_REWRITES = 10;

interface ConvertFlags {
  output: string;
  externalData?: string;
  sizeThreshold: number;
  opset?: number;
  verify?: boolean;
}

export function registerConvert(program: Command, io: CliIo): void {
  program
    .command('convert')
    .description('re-write a model unchanged (byte-identical when nothing moves), inlining external data or moving large tensors into one external file, or upgrading its opset')
    .argument('<model>', 'ONNX model file')
    .requiredOption('-o, --output <file>', 'output model file')
    .option('--external-data <file>', 'store tensors of at least --size-threshold bytes in this file beside the output (4 KiB-aligned offsets)')
    .option('--size-threshold <bytes>', 'smallest tensor moved to the external file', parseNumber('--size-threshold', { min: 0, integer: true }), 1024)
    .option(
      '--opset <n>',
      `upgrade the ai.onnx opset to n (${MIN_TARGET_OPSET}-${MAX_TARGET_OPSET}; ${DEFAULT_TARGET_OPSET} is what training needs), rewriting the nodes whose signature changed`,
      parseNumber('--opset', { min: MIN_TARGET_OPSET, max: MAX_TARGET_OPSET, integer: true }),
    )
    .option('--verify', 'with --opset: check in onnxruntime that the upgraded model computes what the original does')
    .action(async (path: string, flags: ConvertFlags) => {
      if (flags.verify && flags.opset === undefined) throw new UsageError('convert: --verify checks an opset upgrade; give --opset N too');
      const loaded = await loadModelWithInfo(path);
      if (flags.opset !== undefined) {
        const report = upgradeOpset(loaded.model, flags.opset);
        io.out(`upgraded opset ${report.from} -> ${report.to} (IR version ${report.irVersion}): ${report.rewritten.length} nodes rewritten`);
        report.rewritten.slice(0, SHOWN_REWRITES).forEach((line) => io.out(`  ${line}`));
        if (report.rewritten.length > SHOWN_REWRITES) io.out(`  ... and ${report.rewritten.length - SHOWN_REWRITES} more`);
        if (flags.verify) {
          const verify = await verifyEquivalent(await loadModel(path), loaded.model);
          io.out(formatVerifyReport(verify));
          assertVerified(verify);
        }
      }
      const report = await saveModel(loaded.model, flags.output, {
        externalData: flags.externalData,
        sizeThreshold: flags.sizeThreshold,
        sourceExternalData: loaded.externalData,
      });
      const ext = flags.externalData ? `, ${report.externalTensors} tensors (${report.externalBytes} bytes) in ${flags.externalData}` : '';
      io.out(`wrote ${flags.output} (${report.bytes} bytes${ext})`);
    });
}
