/**
 * Hyperparameter tuning: search spaces, grid/random/TPE strategies, ASHA early stopping, trials in worker
 * processes, studies stored in Optuna's schema in SQLite or PostgreSQL (resumable, shared by workers on many hosts), and reports. The CLI needs one call per step:
 *
 *   const config = loadStudyConfig(file, { allowedParams: TRAINER_PARAM_NAMES });
 *   const summary = await tune({ config, trialModule, studyPath, resume, handleSignals: true, events });
 *   console.log(formatTable(rankTrials(summary)));
 *   writeFileSync(htmlPath, renderHtmlReport(summary));   // or loadStudy(studyPath) for a report only
 */
export type {
  EpochDecision, EpochRecord, Metrics, ObjectiveMode, ParamValue, Params, TrialContext, TrialFunction, TrialRecord,
  TrialStatus,
} from './types.js';
export {
  categorical, fixed, int, loguniform, parseSpace, uniform,
  type CategoricalSpec, type FixedSpec, type FloatSpec, type IntSpec, type ParamSpec, type SearchSpace,
} from './space.js';
// The trainer's searchable settings, under the name the engine's docs use (one list: train-trial.ts's).
export { TRAIN_PARAM_NAMES as TRAINER_PARAM_NAMES } from './train-trial.js';
export { loadStudyConfig, parseStudyConfig, type AshaConfig, type StudyConfig } from './config.js';
export { createStrategy } from './strategies/index.js';
export type { HistoryTrial, Strategy, StrategyConfig, StrategySetup, TpeOptions } from './strategies/strategy.js';
export { GridStrategy, gridSize } from './strategies/grid.js';
export { RandomStrategy } from './strategies/random.js';
export { TpeStrategy, defaultTpeSettings, type TpeSettings } from './strategies/tpe.js';
export { AshaPruner, NoPruner, createPruner, type Pruner } from './pruner.js';
export { InlineExecutor, type Executor, type TrialHooks, type TrialJob, type TrialOutcome } from './executor.js';
export { ProcessPoolExecutor, type ProcessPoolOptions } from './process-pool.js';
export { loadStudy, loadStudyFrom, type StudySnapshot, type StudySummary } from './snapshot.js';
export type { StudyStore } from './store/study-store.js';
export { tune, type TuneOptions } from './study.js';
export type { TuneEventHandlers } from './study-events.js';
export { formatTable, rankTrials, renderHtmlReport, reportJson, type RankedTrial, type StudyReportJson } from './report.js';
