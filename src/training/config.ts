/**
 * The settings of a training run (TrainConfig), read from any of the places that hold them: a JSON or YAML config
 * file, a tuning study's `train:` block, the API's object, a run's config.json. Every key, type and range comes from
 * the one list in config-schema.ts; this file turns that list into the type, the defaults and the checks.
 */
import { readFile } from 'node:fs/promises';
import { RegraftError } from '../errors.js';
import { nearestName } from '../util/nearest-name.js';
import { parseYaml } from '../util/yaml.js';
import { TRAIN_SETTINGS, type TrainSettingKey } from './config-schema.js';
import { describeValue, type Presence, type Setting } from './setting-kinds.js';

type Schema = typeof TRAIN_SETTINGS;
type ValueOf<S> = S extends Setting<infer T, Presence> ? T : never;
type KeysWhere<P extends Presence> = { [K in TrainSettingKey]: Schema[K]['presence'] extends P ? K : never }[TrainSettingKey];
type Flatten<T> = { [K in keyof T]: T[K] };

/** Everything `regraft train` takes (see config-schema.ts for each setting); a config file holds the same keys. */
export type TrainConfig = Flatten<
  { -readonly [K in KeysWhere<'required' | 'defaulted'>]: ValueOf<Schema[K]> } & { -readonly [K in KeysWhere<'optional'>]?: ValueOf<Schema[K]> }
>;

type DefaultedKey = KeysWhere<'defaulted'>;

/** The default of every setting that has one. */
export const DEFAULT_CONFIG = Object.fromEntries(
  Object.entries(TRAIN_SETTINGS).filter(([, s]) => s.presence === 'defaulted').map(([k, s]) => [k, s.default]),
) as Pick<TrainConfig, DefaultedKey>;

export const TRAIN_SETTING_KEYS = Object.keys(TRAIN_SETTINGS) as TrainSettingKey[];

/** A setting's key as a config file writes it: camelCase, or the flag's kebab-case (`batch-size`). */
export function settingKey(written: string): string {
  return written.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The problem with one setting's value, or its checked value (a comma-separated list split). */
export function checkSetting(key: TrainSettingKey, raw: unknown): { value: unknown } | { problem: string } {
  return (TRAIN_SETTINGS[key] as Setting).check(raw);
}

/** Where settings were written, for messages: the file (or `train` for the API) and the keys' prefix (`train.`). */
export interface SettingsSource {
  source: string;
  /** Prefix of the keys inside the source: `train.` in a tuning study. */
  keyPath?: string;
}

/**
 * Checks a mapping of train settings as written (a config file, a study's `train:`, the API's object): every key
 * known (an unknown one names the nearest), none given twice (as `batchSize` and `batch-size`), every value of the
 * setting's type and range. Returns the settings under their camelCase keys, lists split; `undefined` values are
 * left out (not given).
 */
export function checkSettings(raw: unknown, { source, keyPath = '' }: SettingsSource): Partial<TrainConfig> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    const what = keyPath === '' ? 'the settings' : `'${keyPath.replace(/\.$/, '')}'`;
    throw new RegraftError(`${source}: ${what} must be a mapping of train settings (model, data, epochs, ...), got ${describeValue(raw)}`);
  }
  const settings: Record<string, unknown> = {};
  const writtenAs = new Map<string, string>();
  for (const [written, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const key = settingKey(written);
    if (!(key in TRAIN_SETTINGS)) {
      const nearest = nearestName(written, TRAIN_SETTING_KEYS);
      throw new RegraftError(
        `${source}: unknown setting '${keyPath}${written}'; did you mean '${keyPath}${nearest}'? (known: ${TRAIN_SETTING_KEYS.join(', ')})`,
      );
    }
    const earlier = writtenAs.get(key);
    if (earlier !== undefined) throw new RegraftError(`${source}: setting '${keyPath}${key}' is given twice (as '${earlier}' and '${written}'); keep one`);
    writtenAs.set(key, written);
    const checked = checkSetting(key as TrainSettingKey, value);
    if ('problem' in checked) throw new RegraftError(`${source}: ${keyPath}${key} ${checked.problem}`);
    settings[key] = checked.value;
  }
  return settings as Partial<TrainConfig>;
}

/** Reads a JSON or YAML config file holding any TrainConfig keys; every key and value is checked, naming the file. */
export async function readConfigFile(path: string): Promise<Partial<TrainConfig>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new RegraftError(`${path}: cannot read the config file; check the path`);
  }
  let parsed: unknown;
  try {
    parsed = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new RegraftError(`${path}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'} (${(err as Error).message.split('\n')[0]})`);
  }
  return checkSettings(parsed, { source: path });
}

/** Fills defaults and checks every value: the settings of a run. */
export function resolveConfig(partial: Partial<TrainConfig>, where: SettingsSource = { source: 'train' }): TrainConfig {
  const given = checkSettings(partial, where);
  for (const key of TRAIN_SETTING_KEYS) {
    if (TRAIN_SETTINGS[key].presence === 'required' && given[key] === undefined) {
      throw new RegraftError(`${where.source}: '${where.keyPath ?? ''}${key}' is required`);
    }
  }
  return { ...DEFAULT_CONFIG, ...given } as TrainConfig;
}
