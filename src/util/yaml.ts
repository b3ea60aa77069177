/**
 * The one YAML reader of config files (train configs, tuning studies). YAML 1.2's core schema, with one change:
 * only `true` and `false` are booleans. The core schema also reads `True` and `FALSE` as booleans, and YAML 1.1
 * (PyYAML, many editors' highlighting) reads `yes`, `no`, `on` and `off` too, while YAML 1.2 makes those strings:
 * `nesterov: no` would be the string "no". Reading every other spelling as a string lets the settings check refuse
 * it, saying which forms it accepts, instead of a value that means the opposite of what was written.
 */
import { parse, type Tags } from 'yaml';

const BOOLEAN_TAG = 'tag:yaml.org,2002:bool';

const strictBoolean = {
  tag: BOOLEAN_TAG,
  default: true,
  test: /^(?:true|false)$/,
  resolve: (source: string) => source === 'true',
};

/** Parses YAML (or JSON, a subset of it); throws the yaml package's error on a syntax error. */
export function parseYaml(text: string): unknown {
  return parse(text, {
    customTags: (tags: Tags) => tags.map((tag) => (typeof tag === 'object' && tag.tag === BOOLEAN_TAG ? strictBoolean : tag)),
    // An explicit `!!bool yes` is left a string (and so refused); the yaml package would print a warning about it.
    logLevel: 'error',
  });
}
