import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { DEFAULT_DROPOUT_RATIO } from '../passes/insert-dropout.js';
import { DEFAULT_CONFIG, readConfigFile, type TrainConfig } from '../training/config.js';
import { SCHEDULES } from '../training/schedule.js';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../runtime/execution-provider.js';
import { evaluateFile } from '../evaluate/index.js';
import { exportRun } from '../training/export.js';
import { inapplicableOptimizerSetting, TRAINING_OPTIMIZERS } from '../compile/optimizers.js';
import { createProgress, type Progress } from './progress.js';
import { train } from '../training/trainer.js';
import type { CliIo } from './context.js';
import { testLine } from './evaluation-format.js';
import { clipGradNormOption, freezeOption, l1Option, l2Option, lossOption, momentumOption, nesterovOption, optimizerOption, penalizeOption, targetOption, trainOption, untieOption, weightDecayOption } from './flags.js';
import { parseChoice, parseDropoutRatio, parseList, parseNumber } from './options.js';

interface TrainFlags {
  data?: string;
  out?: string;
  config?: string;
  resume?: boolean;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  schedule?: TrainConfig['schedule'];
  warmup?: number;
  stepSize?: number;
  gamma?: number;
  optimizer?: TrainConfig['optimizer'];
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
  clipGradNorm?: number;
  loss?: TrainConfig['loss'];
  l2?: number;
  l1?: number;
  penalize?: string[];
  accumulate?: number;
  dropoutAfter?: string[];
  dropoutAfterNode?: string[];
  dropoutRatio?: number;
  freeze?: string[];
  train?: string[];
  untie?: boolean;
  patience?: number;
  valSplit?: number;
  valData?: string;
  target?: string;
  seed?: number;
  ep?: ExecutionProvider;
  strict?: boolean;
  threads?: number;
  limit?: number;
  export?: string;
  test?: string;
}

export function registerTrain(program: Command, io: CliIo): void {
  program
    .command('train')
    .description('train a model on a dataset with onnxruntime (Dropout, L1/L2, SGD/momentum/Adam/AdamW), writing metrics and checkpoints to a run directory')
    .argument('[model]', 'ONNX model to train (or set "model" in --config)')
    .option('--data <spec>', 'training data: mnist, mnist:test, idx:IMAGES,LABELS, csv:FILE, npy:X,Y')
    .option('--out <dir>', 'run directory (config, metrics.jsonl, checkpoints, loss.svg)')
    .option('--config <file>', 'JSON or YAML file holding any of these settings (flags override it)')
    .option('--resume', 'continue the run in --out from its last checkpoint')
    .option('--epochs <n>', 'epochs (default 10)', parseNumber('--epochs', { min: 1, integer: true }))
    .option('--batch-size <n>', 'batch size (default 64)', parseNumber('--batch-size', { min: 1, integer: true }))
    .option('--lr <x>', 'learning rate (default 0.01)', parseNumber('--lr', { min: 0 }))
    .option('--schedule <kind>', `learning-rate schedule: ${SCHEDULES.join(', ')} (default constant)`, parseChoice('--schedule', SCHEDULES))
    .option('--warmup <epochs>', 'raise the learning rate linearly over this many epochs (fractions allowed), step by step', parseNumber('--warmup', { min: 0 }))
    .option('--step-size <n>', 'step schedule: epochs between decays (default 10)', parseNumber('--step-size', { min: 1, integer: true }))
    .option('--gamma <x>', 'step schedule: decay factor (default 0.1)', parseNumber('--gamma', { min: 0 }))
    .addOption(optimizerOption(TRAINING_OPTIMIZERS, false))
    .addOption(momentumOption())
    .addOption(nesterovOption())
    .addOption(weightDecayOption())
    .addOption(clipGradNormOption())
    .addOption(lossOption(DEFAULT_CONFIG.loss))
    .addOption(l2Option())
    .addOption(l1Option())
    .addOption(penalizeOption())
    .option('--accumulate <n>', 'micro-batches of --batch-size per optimizer update (gradient accumulation; default 1)', parseNumber('--accumulate', { min: 1, integer: true }))
    .option('--dropout-after <ops>', 'insert Dropout after these op types, e.g. Relu,Gelu,Softmax', parseList)
    .option('--dropout-after-node <globs>', 'insert Dropout after the nodes these name globs match', parseList)
    .option('--dropout-ratio <r>', `Dropout ratio in [0, 1) (default ${DEFAULT_DROPOUT_RATIO})`, parseDropoutRatio('--dropout-ratio'))
    .addOption(freezeOption())
    .addOption(trainOption())
    .addOption(untieOption())
    .option('--patience <n>', 'stop when validation loss has not improved for n epochs (default: never)', parseNumber('--patience', { min: 0, integer: true }))
    .option('--val-split <f>', 'fraction of the training data held out for validation (default 0.1)', parseNumber('--val-split', { min: 0, max: 0.99 }))
    .option('--val-data <spec>', 'separate validation data instead of a split')
    .addOption(targetOption())
    .option('--seed <n>', 'seed for initial shuffles, Dropout masks and the split (default 0)', parseNumber('--seed', { integer: true }))
    .option('--ep <provider>', 'execution provider: cpu, cuda or webgpu (falls back to cpu, saying why, when the GPU provider is not installed or does not start)', parseChoice('--ep', EXECUTION_PROVIDERS))
    .option('--strict', 'with --ep cuda or webgpu: fail instead of falling back to CPU')
    .option('--threads <n>', 'onnxruntime threads per op (default 1)', parseNumber('--threads', { min: 1, integer: true }))
    .option('--limit <n>', 'use only the first n training samples (quick experiments)', parseNumber('--limit', { min: 1, integer: true }))
    .option('--export <file>', 'after training, export the inference model (best checkpoint) here')
    .option('--test <spec>', 'after --export, evaluate the exported model on this data and print its accuracy')
    .action(async (modelArg: string | undefined, flags: TrainFlags) => {
      const fromFile = flags.config ? await readConfigFile(flags.config) : {};
      const { config: _c, resume, export: exportTo, test, ...settings } = flags;
      const partial: Partial<TrainConfig> = { ...fromFile, ...settings, model: modelArg ?? fromFile.model };
      if (!resume && !partial.model) throw new UsageError('train: give a MODEL (or "model" in --config)');
      if (!partial.data && !resume) throw new UsageError('train: give --data (e.g. --data mnist)');
      if (!partial.out) throw new UsageError('train: give --out RUN_DIR');
      if (test && !exportTo) throw new UsageError('train: --test evaluates the exported model; give --export FILE too');
      // Only flags typed on the command line are checked: a config file may hold every setting (a run's own
      // config.json does), and a resumed run takes its optimizer from the run directory.
      const ignored = resume ? undefined : inapplicableOptimizerSetting(partial.optimizer, settings);
      if (ignored) throw new UsageError(`train: ${ignored}`);

      let progress: Progress | undefined;
      const result = await train(
        partial,
        {
          log: (line) => (progress ? progress.done(line) : io.out(line)),
          onBatch: (p) => {
            if (p.batch === 1) progress = createProgress(io, { totalBatches: p.batches, epoch: p.epoch, epochs: p.epochs });
            progress?.update(p.batch, p.meanLoss, p.samplesPerSec);
          },
          onEpoch: () => {
            progress = undefined;
          },
        },
        { resume },
      );
      io.out(`run saved in ${result.runDir} (metrics.jsonl, checkpoints/, loss.svg); best epoch ${result.bestEpoch}`);
      if (exportTo) {
        const report = await exportRun(result.runDir, exportTo);
        io.out(`exported ${exportTo} (epoch ${report.epoch}, ${report.parameters} trained tensors, checked against the eval model in onnxruntime)`);
        if (test) io.out(testLine(await evaluateFile(exportTo, test, { loss: result.config.loss, output: result.config.target }), test));
      }
    });
}
