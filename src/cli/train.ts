import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { readConfigFile, TRAIN_SETTING_KEYS, type TrainConfig } from '../training/config.js';
import { TRAIN_SETTINGS } from '../training/config-schema.js';
import { evaluateFile } from '../evaluate/index.js';
import { exportRun } from '../training/export.js';
import { inapplicableOptimizerSetting } from '../compile/optimizers.js';
import { createProgress, type Progress } from './progress.js';
import { train } from '../training/trainer.js';
import type { CliIo } from './context.js';
import { testLine } from './evaluation-format.js';
import { settingOption } from './flags.js';
import { handleStopSignals } from './stop-signals.js';
import { checkpointHolds, RunInterrupted, stopReason, type RunPosition } from '../training/run-stop.js';
import { RUN_FILES } from '../training/run-dir.js';
import { join } from 'node:path';

/** The flags that are not train settings: where settings come from, and what happens after training. */
interface CommandFlags {
  config?: string;
  resume?: boolean;
  export?: string;
  test?: string;
}

/** A signal that came after the last epoch: what was left (export, test) is not done, and the exit says so. */
function stopIfAsked(signal: AbortSignal, at: Readonly<RunPosition>, exportLeft: string | undefined): void {
  if (!signal.aborted) return;
  const reason = stopReason(signal);
  const left = exportLeft ? `; export it with: regraft export ${at.runDir} -o ${exportLeft}` : '';
  throw new RunInterrupted(`stopped by ${reason} after training finished: ${at.runDir} holds the complete run (epoch ${at.epochsDone} in ${join(at.runDir, RUN_FILES.last)})${left}`, reason);
}

export function registerTrain(program: Command, io: CliIo): void {
  const command = program
    .command('train')
    .description('train a model on a dataset with onnxruntime (Dropout, L1/L2, SGD/momentum/Adam/AdamW), writing metrics and checkpoints to a run directory')
    .argument('[model]', TRAIN_SETTINGS.model.help)
    .option('--config <file>', 'JSON or YAML file holding any of these settings (flags override it)')
    .option('--resume', 'continue the run in --out from its last checkpoint');
  for (const key of TRAIN_SETTING_KEYS) if (TRAIN_SETTINGS[key].flag.kind !== 'argument') command.addOption(settingOption(key));
  command
    .option('--export <file>', 'after training, export the inference model (best checkpoint) here')
    .option('--test <spec>', 'after --export, evaluate the exported model on this data (any --data spec) and print its accuracy')
    .action(async (modelArg: string | undefined, flags: CommandFlags, cmd: Command) => {
      const fromFile = flags.config ? await readConfigFile(flags.config) : {};
      const { resume, export: exportTo, test } = flags;
      // Only settings typed on the command line: a negatable switch (--no-x) has a default of true in commander.
      const settings: Partial<TrainConfig> = Object.fromEntries(
        TRAIN_SETTING_KEYS.filter((k) => cmd.getOptionValueSource(k) === 'cli').map((k) => [k, cmd.getOptionValue(k) as unknown]),
      );
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
      let position: Readonly<RunPosition> = { runDir: partial.out, created: false, epochsDone: 0, epochs: 0 };
      const stop = handleStopSignals(io, () => checkpointHolds(position));
      try {
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
            onStarted: (at) => (position = at),
          },
          { resume, signal: stop.signal },
        );
        io.out(`run saved in ${result.runDir} (metrics.jsonl, checkpoints/, loss.svg${result.config.tensorboard ? ', tb/' : ''}); best epoch ${result.bestEpoch}`);
        stopIfAsked(stop.signal, position, exportTo);
        if (exportTo) {
          const report = await exportRun(result.runDir, exportTo);
          io.out(`exported ${exportTo} (epoch ${report.epoch}, ${report.parameters} trained tensors, checked against the eval model in onnxruntime)`);
          if (test) {
            stopIfAsked(stop.signal, position, undefined);
            io.out(testLine(await evaluateFile(exportTo, test, { loss: result.config.loss, output: result.config.target, classAxis: result.config.classAxis, ignoreIndex: result.config.ignoreIndex }), test));
          }
        }
        stopIfAsked(stop.signal, position, undefined);
      } finally {
        // A status line still drawn on the terminal would run into the error line.
        progress?.clear();
        // After a first signal the handlers stay until the process exits: a second one, even this late, must
        // not fall back to Node's default (death by the signal, with no word).
        if (!stop.signal.aborted) stop.release();
      }
    });
}
