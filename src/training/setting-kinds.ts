/**
 * The kinds of value a train setting can hold (number, integer, switch, choice, text, list), each knowing what a
 * valid value is, how to say so, and how to read it from a command-line flag. config-schema.ts lists the settings
 * with these; the messages they give name the type they got: `lr must be a number > 0, got the string "0.01"`.
 */

/** Whether a setting must be given (model, data, out), has a default, or may be absent (valData, target). */
export type Presence = 'required' | 'defaulted' | 'optional';

/** How `regraft train` takes a setting: `--name <value>`, a switch (`--strict`, or `--no-name` when it defaults to true), or the positional argument. */
export type FlagForm = { kind: 'value'; placeholder: string } | { kind: 'switch' } | { kind: 'argument' };

export interface Setting<T = unknown, P extends Presence = Presence> {
  readonly presence: P;
  readonly default: T | undefined;
  /** What a valid value is, as a message says it: "a positive integer", "one of sgd, adam". */
  readonly expected: string;
  /** The JavaScript type of a valid value ('number', 'string', 'boolean', 'list'): other types are named in messages. */
  readonly jsType: 'number' | 'string' | 'boolean' | 'list';
  readonly help: string;
  readonly flag: FlagForm;
  /** A tuning study may search over it (a `space:` parameter). */
  readonly searchable: boolean;
  /** `train --resume` may change it (how long and where a run goes, not what an epoch computes). */
  readonly mayChangeOnResume: boolean;
  /** The value as the config holds it (a comma-separated string becomes a list), or a problem to report. */
  check(raw: unknown): { value: T } | { problem: string };
  /** A command-line value in the setting's own type (a number for `--lr 0.1`), before {@link check}. */
  fromFlag(raw: string): unknown;
}

/** What every kind takes besides its own options. */
export interface CommonOptions<T> {
  help: string;
  default?: T;
  required?: true;
  placeholder?: string;
  /** The CLI takes it as the command's argument instead of a flag (the model). */
  argument?: true;
  searchable?: true;
  mayChangeOnResume?: true;
}

type PresenceOf<O> = O extends { default: unknown } ? 'defaulted' : O extends { required: true } ? 'required' : 'optional';

/** How a value of the wrong type or out of range is named: bare when it has the expected type, else with its type. */
export function describeValue(value: unknown, expectedType?: Setting['jsType']): string {
  const shown = (v: unknown) => {
    const text = JSON.stringify(v) ?? String(v);
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  };
  if (value === null || value === undefined) return 'nothing (an empty value)';
  if (Array.isArray(value)) return expectedType === 'list' ? shown(value) : `a list ${shown(value)}`;
  switch (typeof value) {
    case 'number':
      return expectedType === 'number' ? String(value) : `the number ${value}`;
    case 'string':
      return expectedType === 'string' ? `'${value}'` : `the string ${shown(value)}`;
    case 'boolean':
      return expectedType === 'boolean' ? String(value) : `the boolean ${value}`;
    case 'object':
      return `a mapping ${shown(value)}`;
    default:
      return `a ${typeof value}`;
  }
}

function make<T, O extends CommonOptions<T>>(
  o: O,
  kind: Pick<Setting<T>, 'expected' | 'jsType' | 'check' | 'fromFlag'> & { placeholder: string | null },
): Setting<T, PresenceOf<O>> {
  const { placeholder, ...checks } = kind;
  const flag: FlagForm = o.argument ? { kind: 'argument' } : placeholder === null ? { kind: 'switch' } : { kind: 'value', placeholder: o.placeholder ?? placeholder };
  return {
    presence: ('default' in o ? 'defaulted' : o.required ? 'required' : 'optional') as PresenceOf<O>,
    default: o.default,
    help: o.help,
    flag,
    searchable: o.searchable ?? false,
    mayChangeOnResume: o.mayChangeOnResume ?? false,
    ...checks,
  };
}

const mismatch = (expected: string, raw: unknown, jsType: Setting['jsType']) => ({ problem: `must be ${expected}, got ${describeValue(raw, jsType)}` });

export interface NumberOptions<T> extends CommonOptions<T> {
  /** Inclusive bounds. */
  min?: number;
  max?: number;
  /** Exclusive bounds. */
  above?: number;
  below?: number;
  integer?: true;
  /** What a valid value is, when the bounds alone would say it badly ("a positive integer"). */
  expected?: string;
  /** A check owned elsewhere (Dropout's ratio, in insert-dropout.ts): a problem such as "must be in [0, 1), got 1". */
  problem?: (value: number) => string | undefined;
}

/** A number setting's values: those of `oneOf` when given, else any number. */
type NumberOf<O> = O extends { oneOf: readonly (infer V extends number)[] } ? V : number;

/** A finite number within the bounds given, or one of the values of `oneOf`. */
export function numberSetting<const O extends NumberOptions<number> & { oneOf?: readonly number[] }>(o: O): Setting<NumberOf<O>, PresenceOf<O>> {
  const expected = o.expected ?? (o.oneOf ? o.oneOf.join(' or ') : numberExpectation(o));
  // The check below admits only values of oneOf, which makes the narrower type true.
  return make<number, O>(o, {
    expected,
    jsType: 'number',
    placeholder: o.integer ? '<n>' : '<x>',
    check(raw) {
      if (typeof raw !== 'number' || !Number.isFinite(raw)) return mismatch(expected, raw, 'number');
      const outside = (o.integer && !Number.isInteger(raw)) || (o.min !== undefined && raw < o.min) || (o.max !== undefined && raw > o.max) ||
        (o.above !== undefined && !(raw > o.above)) || (o.below !== undefined && !(raw < o.below));
      if (outside || (o.oneOf && !o.oneOf.includes(raw))) return mismatch(expected, raw, 'number');
      const problem = o.problem?.(raw);
      return problem ? { problem } : { value: raw };
    },
    // '' and ' ' are 0 to Number(); a flag given an empty value is no number.
    fromFlag: (raw) => (raw.trim() === '' ? raw : Number.isNaN(Number(raw)) ? raw : Number(raw)),
  }) as Setting<NumberOf<O>, PresenceOf<O>>;
}

function numberExpectation(o: NumberOptions<number>): string {
  const noun = o.integer ? 'an integer' : 'a number';
  const low = o.min !== undefined ? ['[', o.min] as const : o.above !== undefined ? ['(', o.above] as const : undefined;
  const high = o.max !== undefined ? [o.max, ']'] as const : o.below !== undefined ? [o.below, ')'] as const : undefined;
  if (o.integer && low?.[0] === '[' && low[1] === 1 && !high) return 'a positive integer';
  if (o.integer && low?.[0] === '[' && low[1] === 0 && !high) return 'a whole number >= 0';
  if (low && high) return `${noun} in ${low[0]}${low[1]}, ${high[0]}${high[1]}`;
  if (low) return `${noun} ${low[0] === '[' ? '>=' : '>'} ${low[1]}`;
  if (high) return `${noun} ${high[1] === ']' ? '<=' : '<'} ${high[0]}`;
  return noun;
}

/** true or false; on the command line a switch. YAML's yes/no/on/off and True/FALSE are refused (see util/yaml.ts). */
export function booleanSetting<const O extends CommonOptions<boolean>>(o: O): Setting<boolean, PresenceOf<O>> {
  const expected = 'true or false';
  return make<boolean, O>(o, {
    expected,
    jsType: 'boolean',
    placeholder: null,
    check(raw) {
      if (typeof raw === 'boolean') return { value: raw };
      const { problem } = mismatch(expected, raw, 'boolean');
      return { problem: typeof raw === 'string' ? `${problem} (write true or false, unquoted: YAML 1.2 reads yes, no, on and off as text)` : problem };
    },
    fromFlag: (raw) => raw,
  });
}

/** One of a fixed list of words. */
export function choiceSetting<T extends string, const O extends CommonOptions<T>>(choices: readonly T[], o: O): Setting<T, PresenceOf<O>> {
  const expected = `one of ${choices.join(', ')}`;
  return make<T, O>(o, {
    expected,
    jsType: 'string',
    placeholder: '<kind>',
    check(raw) {
      if (typeof raw === 'string' && (choices as readonly string[]).includes(raw)) return { value: raw as T };
      return { problem: `must be ${expected}; got ${describeValue(raw, 'string')}` };
    },
    fromFlag: (raw) => raw,
  });
}

/** A non-empty string (a path, a data spec, a tensor name). */
export function textSetting<const O extends CommonOptions<string> & { noun: string }>(o: O): Setting<string, PresenceOf<O>> {
  const expected = `${o.noun} (text)`;
  return make<string, O>(o, {
    expected,
    jsType: 'string',
    placeholder: '<value>',
    check: (raw) => (typeof raw === 'string' && raw.trim() !== '' ? { value: raw } : mismatch(expected, raw, 'string')),
    fromFlag: (raw) => raw,
  });
}

/** A list of names, written as a YAML/JSON list or as one comma-separated string (`Relu,Gelu`, as the flag takes it). */
export function listSetting<const O extends CommonOptions<string[]> & { noun: string; example: string }>(o: O): Setting<string[], PresenceOf<O>> {
  const expected = `a list of ${o.noun} such as [${o.example}] (or one comma-separated string)`;
  return make<string[], O>(o, {
    expected,
    jsType: 'list',
    placeholder: '<list>',
    check(raw) {
      const items = typeof raw === 'string' ? splitList(raw) : raw;
      if (!Array.isArray(items)) return mismatch(expected, raw, 'list');
      const bad = items.findIndex((item) => typeof item !== 'string' || item.trim() === '');
      if (bad >= 0) return { problem: `must be ${expected}, but item ${bad + 1} is ${describeValue(items[bad], 'string')}` };
      return { value: items.map((item: string) => item.trim()) };
    },
    fromFlag: splitList,
  });
}

export function splitList(raw: string): string[] {
  return raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}
