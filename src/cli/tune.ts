import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { RegraftError, UsageError, describeError } from '../errors.js';
import { exportRun } from '../training/export.js';
import { checkSettings, resolveConfig, type TrainConfig } from '../training/config.js';
import { parseYaml } from '../util/yaml.js';
import { parseStudyConfig, type StudyConfig } from '../tune/config.js';
import { formatTable, rankTrials, renderHtmlReport, reportJson } from '../tune/report.js';
import { trainTrialModulePath } from '../tune/package-root.js';
import { ProcessPoolExecutor } from '../tune/process-pool.js';
import { loadStudyFrom, type StudySummary } from '../tune/snapshot.js';
import { migrateLegacyStudyFile } from '../tune/store/migrate.js';
import type { TrialRecord } from '../tune/types.js';
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
  // The same keys, types and ranges as `train --config`: a typo or a bad value fails before any trial runs.
  const where = { source: path, keyPath: 'train.' };
  const base = checkSettings(train, where);
  if (!base.model || !base.data) throw new RegraftError(`${path}: 'train:' needs model (a path, or '${BUILDER_MLP}' to build one per trial) and data`);
  if (base.out !== undefined) throw new RegraftError(`${path}: train.out is set per trial (in --runs); remove it`);
  resolveConfig({ ...base, out: 'per-trial' }, where);
  return { study, train: base };
}

interface StoreFlags {
  study?: string;
  storage?: string;
  studyName?: string;
}

interface WorkFlags extends StoreFlags {
  parallel?: number;
  runs?: string;
  heartbeat?: number;
  gracePeriod?: number;
}

/** The flags that say where a study lives, on every tune subcommand. */
function storeOptions(cmd: Command, studyHelp: string): Command {
  return cmd
    .option('--study <file>', studyHelp)
    .option('--storage <url>', 'a storage URL instead: postgresql://USER:PASSWORD@HOST:PORT/DB or sqlite:///FILE.db')
    .option('--study-name <name>', 'the study inside the storage (default: the config name, or the file\'s only study)');
}

function workOptions(cmd: Command): Command {
  return cmd
    .option('--parallel <n>', 'trial processes in this worker (default: the config, else the core count)', parseNumber('--parallel', { min: 1, integer: true }))
    .option('--runs <dir>', "parent folder of this worker's trial folders (default: <study>-runs beside the study file, ./<name>-runs for a URL)")
    .option('--heartbeat <seconds>', 'seconds between heartbeats of running trials (default 10)', parseNumber('--heartbeat', { min: 0.05 }))
    .option('--grace-period <seconds>', 'a trial without a heartbeat for this long is failed and retried once (default 60)', parseNumber('--grace-period', { min: 0.1 }));
}

/** The trial processes of a CLI study: train() runs with the study's base settings, handed over in their environment. */
function trainExecutor(parallel: number | undefined) {
  return ({ config, train }: { config: StudyConfig; train: unknown }) => {
    if (train === null || train === undefined) {
      throw new RegraftError(`the study has no 'train:' settings (it was not started by 'regraft tune CONFIG'); start it with a config that has train:`);
    }
    return new ProcessPoolExecutor(trainTrialModulePath(), { parallel: parallel ?? config.parallel, env: { [BASE_ENV]: JSON.stringify(train) } });
  };
}

function reportTrial(io: CliIo, metric: () => string) {
  return (t: TrialRecord) =>
    io.out(`trial ${t.id} ${t.status}${t.objective !== null ? ` ${metric()}=${t.objective.toFixed(4)}` : ''}${t.error ? `: ${t.error}` : ''} ${JSON.stringify(t.params)}`);
}

/** A study in which trials ran but none completed is a failed run: exit 1 with the failure most trials had. */
function requireACompleteTrial(summary: StudySummary): void {
  if (summary.interrupted || summary.counts.complete > 0) return;
  const failed = summary.trials.filter((t) => t.status === 'failed');
  if (failed.length === 0) return;
  // Errors that differ only in their numbers (each trial's own lr) are the same failure.
  const byKind = new Map<string, { example: string; count: number }>();
  for (const t of failed) {
    const error = t.error ?? 'no error recorded';
    const kind = error.replace(/-?\d+(\.\d+)?(e[-+]?\d+)?/gi, '#');
    const entry = byKind.get(kind) ?? { example: error, count: 0 };
    entry.count++;
    byKind.set(kind, entry);
  }
  const { example: error, count } = [...byKind.values()].sort((a, b) => b.count - a.count)[0];
  throw new RegraftError(`no trial of study '${summary.name}' completed; ${count} of ${summary.trials.length} failed with: ${error}`);
}

export function registerTune(program: Command, io: CliIo): void {
  const cmd = program.command('tune').description('hyperparameter search over train settings: grid, random or TPE, parallel trials, ASHA early stopping, studies in SQLite or PostgreSQL (Optuna\'s schema) shared by workers on many hosts');

  workOptions(storeOptions(
    cmd
      .command('run', { isDefault: true })
      .description('run (or --resume) a study described by a YAML/JSON config; with --storage, create the study or join it')
      .argument('<config>', 'study config: space, objective, strategy, trials, parallel, pruner, and train (base settings)'),
    'SQLite file holding the study',
  ))
    .option('--resume', 'continue an interrupted study; finished trials are kept, none is run twice')
    .option('--trials <n>', 'total number of trials (overrides the config)', parseNumber('--trials', { min: 1, integer: true }))
    .option('--html <file>', 'write the HTML report here when the study ends')
    .action(async (configPath: string, opts: WorkFlags & { resume?: boolean; trials?: number; html?: string }) => {
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
      if (opts.study === undefined && opts.storage === undefined) throw new UsageError(`tune needs --study FILE.db or --storage URL`);
      const summary = await tune({
        config,
        studyPath: opts.study,
        storage: opts.storage,
        studyName: opts.studyName,
        resume: opts.resume,
        join: opts.storage !== undefined,
        train,
        runsDir: opts.runs,
        heartbeatSeconds: opts.heartbeat,
        gracePeriodSeconds: opts.gracePeriod,
        executor: trainExecutor(opts.parallel),
        handleSignals: true,
        events: { trialFinish: reportTrial(io, () => config.objective.metric), notice: (line) => io.err(`regraft: ${line}`) },
      });
      for (const line of formatTable(rankTrials(summary), { objectiveLabel: config.objective.metric }).split('\n')) io.out(line);
      if (opts.html) {
        await writeFileAtomic(opts.html, renderHtmlReport(summary));
        io.out(`report: ${opts.html}`);
      }
      if (summary.interrupted) throw new RegraftError(`study stopped by ${summary.interrupted}; continue it with --resume`);
      requireACompleteTrial(summary);
    });

  workOptions(storeOptions(
    cmd
      .command('worker')
      .description("join a study by name and run its trials until the study's trial budget is spent (one per host, or several)"),
    'SQLite file holding the study',
  ))
    .action(async (opts: WorkFlags) => {
      if (opts.study === undefined && opts.storage === undefined) throw new UsageError(`tune worker needs --storage URL (or --study FILE.db) and --study-name`);
      let metric = 'objective';
      const summary = await tune({
        studyPath: opts.study,
        storage: opts.storage,
        studyName: opts.studyName,
        join: true,
        runsDir: opts.runs,
        heartbeatSeconds: opts.heartbeat,
        gracePeriodSeconds: opts.gracePeriod,
        executor: (study) => {
          metric = study.config.objective.metric;
          return trainExecutor(opts.parallel)(study);
        },
        handleSignals: true,
        events: { trialFinish: reportTrial(io, () => metric), notice: (line) => io.err(`regraft: ${line}`) },
      });
      io.out(`study '${summary.name}': ${summary.counts.complete} complete, ${summary.counts.pruned} pruned, ${summary.counts.failed} failed of ${summary.config.trials}` +
        (summary.best ? `; best trial ${summary.best.id} ${metric}=${summary.best.objective}` : ''));
      if (summary.interrupted) throw new RegraftError(`worker stopped by ${summary.interrupted}; its running trials went back to the queue for any worker`);
      requireACompleteTrial(summary);
    });

  storeOptions(
    cmd
      .command('report')
      .description('rank the trials of a study (best first); --html writes a page with charts, --json prints data')
      .argument('[study]', 'SQLite study file (or give --study / --storage)'),
    'SQLite study file',
  )
    .option('--json', 'print the report as JSON')
    .option('--html <file>', 'write the HTML report')
    .action(async (studyArg: string | undefined, opts: StoreFlags & { json?: boolean; html?: string }) => {
      const summary = await loadStudyFrom(whereFrom(studyArg, opts));
      if (opts.json) io.out(JSON.stringify(reportJson(summary), null, 2));
      else for (const line of formatTable(rankTrials(summary), { objectiveLabel: summary.config.objective.metric }).split('\n')) io.out(line);
      if (opts.html) {
        await writeFileAtomic(opts.html, renderHtmlReport(summary));
        if (!opts.json) io.out(`report: ${opts.html}`);
      }
    });

  storeOptions(
    cmd
      .command('export')
      .description("export the best trial's inference model")
      .argument('[study]', 'SQLite study file (or give --study / --storage)'),
    'SQLite study file',
  )
    .requiredOption('-o, --output <file>', 'output ONNX model')
    .action(async (studyArg: string | undefined, opts: StoreFlags & { output: string }) => {
      const summary = await loadStudyFrom(whereFrom(studyArg, opts));
      if (!summary.best) throw new RegraftError(`${summary.studyPath}: no trial of study '${summary.name}' has completed yet; nothing to export`);
      const report = await exportRun(summary.best.runDir, opts.output);
      io.out(`wrote ${opts.output} from trial ${summary.best.id} (${summary.config.objective.metric}=${summary.best.objective}, epoch ${report.epoch})`);
    });

  cmd
    .command('migrate')
    .description("convert a study file of regraft's first format to Optuna's schema, in place (the old file is kept as FILE.v1)")
    .argument('<study>', 'SQLite study file in the first format')
    .action(async (studyPath: string) => {
      const { study, trials, backup } = await migrateLegacyStudyFile(studyPath);
      io.out(`migrated study '${study}' (${trials} trials) in ${studyPath} to Optuna's schema; the old file is ${backup}`);
    });
}

function whereFrom(studyArg: string | undefined, opts: StoreFlags): { study?: string; storage?: string; studyName?: string } {
  if (studyArg !== undefined && (opts.study !== undefined || opts.storage !== undefined)) {
    throw new UsageError(`give the study once: as the argument, --study or --storage`);
  }
  const where = { study: studyArg ?? opts.study, storage: opts.storage, studyName: opts.studyName };
  if (where.study === undefined && where.storage === undefined) throw new UsageError(`which study? give a study file, or --storage URL`);
  return where;
}
