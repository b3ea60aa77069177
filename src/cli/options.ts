import { UsageError } from '../errors.js';
import { ratioProblem } from '../passes/insert-dropout.js';
import { splitList } from '../training/setting-kinds.js';

/** Flag parsers for commander: each rejects a bad value with a usage error (exit 2) naming the flag. */
export function parseNumber(flag: string, { min, max, integer }: { min?: number; max?: number; integer?: boolean } = {}) {
  return (raw: string): number => {
    const x = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(x)) throw new UsageError(`${flag} expects a number, got '${raw}'`);
    if (integer && !Number.isInteger(x)) throw new UsageError(`${flag} expects an integer, got '${raw}'`);
    if (min !== undefined && x < min) throw new UsageError(`${flag} must be at least ${min}, got ${raw}`);
    if (max !== undefined && x > max) throw new UsageError(`${flag} must be at most ${max}, got ${raw}`);
    return x;
  };
}

/** A comma-separated flag value as its trimmed, non-empty items: the train settings' list reading. */
export const parseList = splitList;

/** `--dim sequence=12,batch=32` (repeatable): symbolic dim name -> size, a whole number of at least 1. */
export function parseDims(raw: string, previous: Record<string, number> = {}): Record<string, number> {
  const out = { ...previous };
  for (const item of parseList(raw)) {
    const m = /^([^=]+)=(\d+)$/.exec(item);
    if (!m || Number(m[2]) < 1) throw new UsageError(`--dim expects NAME=SIZE with a size of at least 1 (e.g. --dim sequence=12), got '${item}'`);
    out[m[1].trim()] = Number(m[2]);
  }
  return out;
}

export function parseChoice<T extends string>(flag: string, choices: readonly T[]) {
  return (raw: string): T => {
    if (!(choices as readonly string[]).includes(raw)) throw new UsageError(`${flag} must be one of ${choices.join(', ')}; got '${raw}'`);
    return raw as T;
  };
}

/** A Dropout ratio, checked by insert-dropout's one range check (a drop probability in [0, 1)). */
export function parseDropoutRatio(flag: string) {
  return (raw: string): number => {
    const ratio = parseNumber(flag)(raw);
    const problem = ratioProblem(ratio);
    if (problem) throw new UsageError(`${flag} ${problem}`);
    return ratio;
  };
}
