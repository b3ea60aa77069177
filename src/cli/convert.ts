import type { Command } from 'commander';
import { loadModelWithInfo, saveModel } from '../model-io.js';
import type { CliIo } from './context.js';
import { parseNumber } from './options.js';

export function registerConvert(program: Command, io: CliIo): void {
  program
    .command('convert')
    .description('re-write a model unchanged (byte-identical when nothing moves), inlining external data or moving large tensors into one external file')
    .argument('<model>', 'ONNX model file')
    .requiredOption('-o, --output <file>', 'output model file')
    .option('--external-data <file>', 'store tensors of at least --size-threshold bytes in this file beside the output (4 KiB-aligned offsets)')
    .option('--size-threshold <bytes>', 'smallest tensor moved to the external file', parseNumber('--size-threshold', { min: 0, integer: true }), 1024)
    .action(async (path: string, opts: { output: string; externalData?: string; sizeThreshold: number }) => {
      const loaded = await loadModelWithInfo(path);
      const report = await saveModel(loaded.model, opts.output, {
        externalData: opts.externalData,
        sizeThreshold: opts.sizeThreshold,
        sourceExternalData: loaded.externalData,
      });
      const ext = opts.externalData ? `, ${report.externalTensors} tensors (${report.externalBytes} bytes) in ${opts.externalData}` : '';
      io.out(`wrote ${opts.output} (${report.bytes} bytes${ext})`);
    });
}
