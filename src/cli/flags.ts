/**
 * Command-line options made from the train settings of training/config-schema.ts, which owns each one's name,
 * help text, range and default: `train` takes every setting this way, and `compile` and `gradcheck` take the ones
 * they share with it (--loss, --l2, --optimizer, ...) through the same declarations. Where the commands differ, the
 * difference is an argument here rather than a second declaration: compile and gradcheck require --loss where
 * train has a default; compile offers `--optimizer none` (gradients only) and fills in the default optimizer, while
 * train leaves every default to its run settings (so that a config file is not overridden by a flag nobody typed).
 */
import { Option } from 'commander';
import { UsageError } from '../errors.js';
import { OPTIMIZERS, DEFAULT_OPTIMIZER, type OptimizerKind } from '../compile/optimizers.js';
import { TRAIN_SETTINGS, type TrainSettingKey } from '../training/config-schema.js';
import type { Setting } from '../training/setting-kinds.js';
import { parseChoice, parseDims } from './options.js';

/** `batchSize` -> `batch-size`. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The flag that sets a setting, as the user types it: `--batch-size`, `--no-tensorboard`, `--strict`. */
export function flagOf(key: TrainSettingKey): string {
  const setting = TRAIN_SETTINGS[key] as Setting;
  return setting.flag.kind === 'switch' && setting.default === true ? `--no-${flagName(key)}` : `--${flagName(key)}`;
}

/**
 * The option of one train setting: `--kebab-name <placeholder>` (or a switch), the schema's help with the default
 * said, and a parser that refuses a bad value with a usage error (exit 2) naming the flag. Commander fills in no
 * default: settings left out come from --config or from the schema's defaults.
 */
export function settingOption(key: TrainSettingKey, opts: { showDefault?: boolean } = {}): Option {
  const setting = TRAIN_SETTINGS[key] as Setting;
  const flag = flagOf(key);
  const shownDefault = (opts.showDefault ?? true) && showsDefault(setting) ? ` (default ${String(setting.default)})` : '';
  if (setting.flag.kind === 'switch') return new Option(flag, setting.help + shownDefault);
  if (setting.flag.kind === 'argument') throw new Error(`${key} is the command's argument, not a flag`);
  return new Option(`${flag} ${setting.flag.placeholder}`, setting.help + shownDefault).argParser(settingParser(key));
}

/** Reads a flag's text as the setting's type and checks it; a bad value is a usage error naming the flag. */
export function settingParser(key: TrainSettingKey): (raw: string) => unknown {
  const setting = TRAIN_SETTINGS[key] as Setting;
  const flag = flagOf(key);
  return (raw: string) => {
    const value = setting.fromFlag(raw);
    if (setting.jsType === 'number' && typeof value !== 'number') throw new UsageError(`${flag} must be ${setting.expected}, got '${raw}'`);
    const checked = setting.check(value);
    if ('problem' in checked) throw new UsageError(`${flag} ${checked.problem}`);
    return checked.value;
  };
}

/** Defaults worth saying in the help: numbers and words, not an empty list or a switch's false. */
function showsDefault(setting: Setting): boolean {
  return typeof setting.default === 'number' || (typeof setting.default === 'string' && setting.default !== '');
}

/** --loss; required (no default said) for compile and gradcheck, where there is no run setting to fall back on. */
export function lossOption(required: boolean): Option {
  const option = settingOption('loss', { showDefault: !required });
  return required ? option.makeOptionMandatory() : option;
}

/** compile's --optimizer: the training optimizers plus `none` (gradients only), with the default filled in. */
export function compileOptimizerOption(): Option {
  return new Option('--optimizer <kind>', `${OPTIMIZERS.join(', ')} (default ${DEFAULT_OPTIMIZER})`)
    .argParser(parseChoice('--optimizer', OPTIMIZERS))
    .default(DEFAULT_OPTIMIZER satisfies OptimizerKind);
}

/** compile's --dim: a symbolic dim of the data inputs fixed for the compiled step (repeatable). */
export function dimOption(): Option {
  return new Option(
    '--dim <name=size>',
    "fix a symbolic dim of the data inputs (e.g. sequence=12; repeatable): the step is compiled for that size, as LSTM/GRU/RNN need for their sequence length",
  ).argParser(parseDims);
}
