import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { RegraftError, describeError } from '../errors.js';
import { exportRun } from '../training/export.js';
import { resolveConfig, type TrainConfig } from '../training/config.js';
import { parseStudyConfig } from '../tune/config.js';
import { formatTable, rankTrials, renderHtmlReport, reportJson } from '../tune/report.js';
import { trainTrialModulePath } from '../tune/package-root.js';
import { ProcessPoolExecutor } from '../tune/process-pool.js';
import { loadStudy } from '../tune/snapshot.js';
import { tune } from '../tune/study.js';
import { BASE_ENV, BUILDER_MLP, TRAIN_PARAM_NAMES } from '../tune/train-trial.js';
import { isRegressionLoss } from '../compile/losses.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import type { CliIo } from './context.js';
import { parseNumber } from './options.js';

/** The study config file: the engine's settings plus `train:`, the base settings of every trial. */
function readStudyFile(path: string): { study: Record<string, unknown>; train: Partial<TrainConfig> } {
  let raw: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new RegraftError(`${path}: cannot read the study config (${describeError(err)})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new RegraftError(`${path}: expected a mapping with space, objective, ... and train`);
  const { train, ...study } = raw as Record<string, unknown>;
  if (typeof train !== 'object' || train === null) {
    throw new RegraftError(`${path}: missing 'train:' (base settings of every trial, e.g. model, data, epochs)`);
  }
  const base = train as Partial<TrainConfig>;
  if (!base.model || !base.data) throw new RegraftError(`${path}: 'train:' needs model (a path, or '${BUILDER_MLP}' to build one per trial) and data`);
  // Everything but the per-trial values must already be valid, so a typo fails before any trial runs.
  resolveConfig({ ...base, model: base.model, out: 'check' });
  return { study, train: base };
}

export function registerTune(program: Command, io: CliIo): void {
  const cmd = program.command('tune').description('hyperparameter search over train settings: grid, random or TPE, parallel trials, ASHA early stopping, a resumable SQLite study');

  cmd
    .command('run', { isDefault: true })
    .description('run (or --resume) a study described by a YAML/JSON config')
    .argument('<config>', 'study config: space, objective, strategy, trials, parallel, pruner, and train (base settings)')
    .requiredOption('--study <file>', 'SQLite file holding the study')
    .option('--resume', 'continue an interrupted study; finished trials are kept, none is run twice')
    .option('--parallel <n>', 'worker processes (default: the config, else the core count)', parseNumber('--parallel', { min: 1, integer: true }))
    .option('--trials <n>', 'total number of trials (overrides the config)', parseNumber('--trials', { min: 1, integer: true }))
    .option('--html <file>', 'write the HTML report here when the study ends')
    .action(async (configPath: string, opts: { study: string; resume?: boolean; parallel?: number; trials?: number; html?: string }) => {
      const { study, train } = readStudyFile(configPath);
      if (opts.parallel) study.parallel = opts.parallel;
      if (opts.trials) study.trials = opts.trials;
      const config = parseStudyConfig(study, { allowedParams: TRAIN_PARAM_NAMES, source: configPath });
      // Regression losses report no accuracy (bce-logits does): say so before any trial runs, not once per trial.
      const loss = train.loss ?? 'cross-entropy';
      const metrics = [config.objective.metric, config.pruner?.metric].filter((m) => m !== undefined);
      if (isRegressionLoss(loss) && loss !== 'bce-logits' && metrics.includes('val_accuracy')) {
        throw new RegraftError(`${configPath}: train.loss ${loss} reports no val_accuracy; use objective { metric: val_loss, mode: min }`);
      }
      const baseJson = JSON.stringify(train);
      await keepTrainSettings(opts.study, baseJson, { resume: opts.resume ?? false, configPath });
      // The base settings reach the workers through their environment, not through this process's.
      const executor = new ProcessPoolExecutor(trainTrialModulePath(), { parallel: config.parallel, env: { [BASE_ENV]: baseJson } });
      const summary = await tune({
        config,
        studyPath: opts.study,
        resume: opts.resume,
        executor,
        handleSignals: true,
        events: {
          trialFinish: (t) => io.out(`trial ${t.id} ${t.status}${t.objective !== null ? ` ${config.objective.metric}=${t.objective.toFixed(4)}` : ''}${t.error ? `: ${t.error}` : ''} ${JSON.stringify(t.params)}`),
        },
      });
      for (const line of formatTable(rankTrials(summary), { objectiveLabel: config.objective.metric }).split('\n')) io.out(line);
      if (opts.html) {
        await writeFileAtomic(opts.html, renderHtmlReport(summary));
        io.out(`report: ${opts.html}`);
      }
      if (summary.interrupted) throw new RegraftError(`study stopped by ${summary.interrupted}; continue it with --resume`);
    });

  cmd
    .command('report')
    .description('rank the trials of a study (best first); --html writes a page with charts, --json prints data')
    .argument('<study>', 'SQLite study file')
    .option('--json', 'print the report as JSON')
    .option('--html <file>', 'write the HTML report')
    .action(async (studyPath: string, opts: { json?: boolean; html?: string }) => {
      if (!existsSync(studyPath)) throw new RegraftError(`${studyPath}: no such study file; check the path`);
      const summary = loadStudy(studyPath);
      if (opts.json) io.out(JSON.stringify(reportJson(summary), null, 2));
      else for (const line of formatTable(rankTrials(summary), { objectiveLabel: summary.config.objective.metric }).split('\n')) io.out(line);
      if (opts.html) {
        await writeFileAtomic(opts.html, renderHtmlReport(summary));
        if (!opts.json) io.out(`report: ${opts.html}`);
      }
    });

  cmd
    .command('export')
    .description("export the best trial's inference model")
    .argument('<study>', 'SQLite study file')
    .requiredOption('-o, --output <file>', 'output ONNX model')
    .action(async (studyPath: string, opts: { output: string }) => {
      if (!existsSync(studyPath)) throw new RegraftError(`${studyPath}: no such study file; check the path`);
      const summary = loadStudy(studyPath);
      if (!summary.best) throw new RegraftError(`${studyPath}: no trial has completed yet; nothing to export`);
      const report = await exportRun(summary.best.runDir, opts.output);
      io.out(`wrote ${opts.output} from trial ${summary.best.id} (${summary.config.objective.metric}=${summary.best.objective}, epoch ${report.epoch})`);
    });
}

/**
 * The study's `train:` settings, kept beside the study file (`<study>.train.json`) so that a resume with different
 * ones is refused. A new study (no study file yet) replaces whatever a deleted study left there.
 */
async function keepTrainSettings(studyPath: string, baseJson: string, opts: { resume: boolean; configPath: string }): Promise<void> {
  const sidecar = `${studyPath}.train.json`;
  const studyExists = existsSync(studyPath);
  if (opts.resume && studyExists && existsSync(sidecar) && readFileSync(sidecar, 'utf8') !== baseJson) {
    throw new RegraftError(`${opts.configPath}: 'train:' differs from the one the study started with (${sidecar}); resume with the same settings`);
  }
  // An existing study without --resume is refused by tune(); its sidecar must survive that.
  if (!studyExists || !existsSync(sidecar)) await writeFileAtomic(sidecar, baseJson);
}
