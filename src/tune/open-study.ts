/**
 * Which study a tune run works on, and with which config. A study that does not exist is created from the given
 * config; one that exists is touched only when the run resumes or joins it, and then its stored config is the one
 * run: the given one may raise `trials` and change `parallel`, and must agree on everything that defines the search.
 * A study Optuna created adopts the given config. The stored `train:` settings must match the given ones.
 */
import { RegraftError } from '../errors.js';
import { parseStudyConfig, type StudyConfig } from './config.js';
import { unknownStudy } from './snapshot.js';
import { chooseStudyName, describeTarget, listStudies, openWritableDriver, type StorageTarget } from './store/open-store.js';
import { openSqlStudy } from './store/sql-study-store.js';
import type { StudyStore } from './store/study-store.js';

/** Keys that define what a study searches; a resume may change `trials` and `parallel`, nothing else. */
const IDENTITY_KEYS = ['space', 'objective', 'strategy', 'seed', 'pruner'] as const;

/** The part of tune()'s options (TuneOptions) that picks the study and checks its settings. */
export interface StudyRequest {
  /** A storage URL instead of TuneOptions.studyPath: postgresql://user:password@host:port/db, sqlite:///FILE.db (`--storage URL`). */
  storage?: string;
  /** The study inside the storage; default: the config's name (or, in a study file, the file's only study). */
  studyName?: string;
  /** Continue the study instead of refusing to touch an existing one. */
  resume?: boolean;
  /** Create the study or join it if it exists (what `--storage` and `tune worker` do); implies resume. */
  join?: boolean;
  /** Settings stored with the study and checked on every join (the CLI's `train:`). */
  train?: unknown;
}

/** Opens the storage and the study the options name (created from `given` when new), with the config and `train:` to run. */
export async function openStudyForWork(target: StorageTarget, opts: StudyRequest, given: StudyConfig | null): Promise<{ store: StudyStore; config: StudyConfig; train: unknown }> {
  const where = describeTarget(target);
  const driver = await openWritableDriver(target);
  try {
    const names = await listStudies(driver);
    const name = target.kind === 'sqlite' && opts.storage === undefined
      ? chooseStudyName(names, { requested: opts.studyName, fallback: given?.name, where })
      : opts.studyName ?? given?.name ?? null;
    if (name === null) throw new RegraftError(`${where} is new: give a tuning config to start a study`);
    const exists = names.includes(name);
    if (!exists) {
      if (!given) throw names.length > 0 ? unknownStudy(name, where, names) : new RegraftError(`${where} holds no study '${name}': give a tuning config to start it`);
      const store = await openSqlStudy(driver, name, { direction: given.objective.mode, config: given, train: opts.train });
      if (!store) throw new RegraftError(`${where}: could not create study '${name}'`);
      // Another worker may have created it a moment earlier, with its own config: check as for a join.
      return { store, ...(await reconcileConfig(store, opts, given, where)) };
    }
    if (!opts.resume && !opts.join) {
      const store = await openSqlStudy(driver, name);
      const count = store ? (await store.trials()).length : 0;
      throw new RegraftError(
        `${target.kind === 'sqlite' ? `study file ${target.path}` : where} already holds study '${name}' (${count} trials); ` +
          `resume it (--resume) or choose another study path`,
      );
    }
    const store = (await openSqlStudy(driver, name)) as StudyStore;
    return { store, ...(await reconcileConfig(store, opts, given, where)) };
  } catch (err) {
    await driver.close();
    throw err;
  }
}

/**
 * The config to run with: the stored one, checked against the given one (which may raise `trials` and change
 * `parallel`), or the given one adopted by a study Optuna created. Train settings must match the stored ones.
 */
async function reconcileConfig(store: StudyStore, opts: StudyRequest, given: StudyConfig | null, where: string): Promise<{ config: StudyConfig; train: unknown }> {
  const info = await store.info();
  const train = info.train ?? opts.train ?? null;
  const label = `study '${info.name}' in ${where}`;
  if (opts.train !== undefined && info.train !== null && JSON.stringify(info.train) !== JSON.stringify(opts.train)) {
    throw new RegraftError(`'train:' differs from the one ${label} started with; run with the same settings, or start another study (--study-name)`);
  }
  if (info.config === null) {
    // A study made by Optuna (optuna.create_study, enqueue_trial): regraft adopts the given config for it.
    if (!given) throw new RegraftError(`${label} was made by Optuna and has no regraft config; give one: regraft tune CONFIG --storage URL --study-name ${info.name}`);
    if (info.direction !== null && info.direction !== given.objective.mode) {
      throw new RegraftError(`${label} ${info.direction === 'max' ? 'maximizes' : 'minimizes'}, but the config's objective mode is '${given.objective.mode}'; make them agree`);
    }
    await store.setStudyAttributes({ config: given, train: opts.train, direction: given.objective.mode });
    return { config: given, train };
  }
  const previous = parseStudyConfig(info.config, { source: label });
  if (!given) return { config: previous, train };
  for (const key of IDENTITY_KEYS) {
    if (JSON.stringify(previous[key]) !== JSON.stringify(given[key])) {
      throw new RegraftError(
        `cannot resume ${label}: its '${key}' differs from the given config; ` +
          `resume without a config, restore the original '${key}', or start a new study`,
      );
    }
  }
  const merged: StudyConfig = { ...previous, trials: given.trials, parallel: given.parallel };
  if (merged.trials !== previous.trials || merged.parallel !== previous.parallel) await store.setStudyAttributes({ config: merged });
  if (opts.train !== undefined && info.train === null) await store.setStudyAttributes({ train: opts.train });
  return { config: merged, train };
}
