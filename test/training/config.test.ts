/**
 * One schema for every place train settings are written (config-schema.ts): `train` flags, `--config` files, a
 * tuning study's `train:` block and the API's object accept the same keys, types and ranges, and refuse the same
 * mistakes with one line that names the source, the key, what is valid and the type it got.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { flagName } from '../../src/cli/flags.js';
import { TRAIN_SETTINGS } from '../../src/training/config-schema.js';
import { checkSettings, readConfigFile, resolveConfig, TRAIN_SETTING_KEYS } from '../../src/training/config.js';
import { train } from '../../src/training/trainer.js';
import { TRAIN_PARAM_NAMES } from '../../src/tune/train-trial.js';
import { parseYaml } from '../../src/util/yaml.js';
import { runCli } from '../cli/helpers.js';
import { MNIST_SUBSET, tempDir, writeSmallMlp } from './fixtures/runs.js';

const dir = tempDir('config');
const MODEL = writeSmallMlp(dir);

/** Base settings as YAML lines, without those `extra` sets. */
async function baseLines(extra: string): Promise<string[]> {
  const given = new Set(extra.split('\n').map((l) => l.split(':')[0].trim()));
  return [`model: ${await MODEL}`, `data: ${MNIST_SUBSET}`, 'limit: 100', 'epochs: 1'].filter((l) => !given.has(l.split(':')[0]));
}

/** Runs `regraft train --config FILE` on a YAML file of the base settings plus `extra` (YAML lines). */
async function trainWithYaml(name: string, extra: string) {
  const file = join(dir, `${name}.yaml`);
  const out = join(dir, `${name}-run`);
  writeFileSync(file, [...(await baseLines(extra)), `out: ${out}`, extra, ''].join('\n'));
  return { ...(await runCli('train', '--config', file)), file, out };
}

/** Runs `regraft tune STUDY` whose `train:` block holds the base settings plus `extra` (YAML lines, indented). */
async function tuneWithTrainBlock(name: string, extra: string) {
  const file = join(dir, `${name}-study.yaml`);
  const study = join(dir, `${name}.db`);
  writeFileSync(file, [
    'space:', '  lr: { loguniform: [0.01, 0.1] }', 'objective: { metric: val_accuracy, mode: max }', 'trials: 1', 'parallel: 1',
    'train:', ...[...(await baseLines(extra)), ...extra.split('\n')].map((l) => `  ${l}`),
  ].join('\n'));
  return { ...(await runCli('tune', file, '--study', study)), file, study };
}

function expectOneLine(r: { code: number; err: string[] }, code: number, message: string): void {
  expect(r.err).toEqual([`regraft: ${message}`]);
  expect(r.code).toBe(code);
}

describe('the three issue #14 misreadings are refused in every place settings are written', () => {
  it("YAML 'nesterov: no' (a string under YAML 1.2, which counted as true) is refused with the accepted forms", async () => {
    const accepted = '(write true or false, unquoted: YAML 1.2 reads yes, no, on and off as text)';
    const file = await trainWithYaml('nesterov-no', 'optimizer: momentum\nnesterov: no');
    expectOneLine(file, 1, `${file.file}: nesterov must be true or false, got the string "no" ${accepted}`);
    expect(existsSync(file.out)).toBe(false);
    const study = await tuneWithTrainBlock('nesterov-no', 'optimizer: momentum\nnesterov: no');
    expectOneLine(study, 1, `${study.file}: train.nesterov must be true or false, got the string "no" ${accepted}`);
    expect(existsSync(study.study)).toBe(false);
    // YAML 1.2's core schema reads True and FALSE as booleans; only true and false are.
    expect(parseYaml('a: true\nb: false\nc: True\nd: FALSE\ne: yes\nf: off')).toEqual({ a: true, b: false, c: 'True', d: 'FALSE', e: 'yes', f: 'off' });
    const capital = await trainWithYaml('nesterov-true', 'optimizer: momentum\nnesterov: True');
    expectOneLine(capital, 1, `${capital.file}: nesterov must be true or false, got the string "True" ${accepted}`);
  });

  it("'dropoutAfter: 5' (which inserted no Dropout) is refused; a list or a comma-separated string is read as a list", async () => {
    const listForms = 'a list of op types such as [Relu] (or one comma-separated string)';
    const file = await trainWithYaml('dropout-5', 'dropoutAfter: 5');
    expectOneLine(file, 1, `${file.file}: dropoutAfter must be ${listForms}, got the number 5`);
    const study = await tuneWithTrainBlock('dropout-5', 'dropoutAfter: 5');
    expectOneLine(study, 1, `${study.file}: train.dropoutAfter must be ${listForms}, got the number 5`);
    expect(() => resolveConfig({ model: 'm', data: 'd', out: 'o', dropoutAfter: 5 as unknown as string[] })).toThrow(
      `train: dropoutAfter must be ${listForms}, got the number 5`,
    );
    expect(checkSettings({ dropoutAfter: 'Relu, Gelu', freeze: ['fc1.*'] }, { source: 'x' })).toEqual({ dropoutAfter: ['Relu', 'Gelu'], freeze: ['fc1.*'] });
  });

  it("a typo key in a study's train: block (batchsize, once ignored) is refused with the nearest key, as --config and the API refuse it", async () => {
    const study = await tuneWithTrainBlock('typo', 'batchsize: 32');
    expect(study.code).toBe(1);
    expect(study.err).toHaveLength(1);
    expect(study.err[0]).toMatch(new RegExp(`^regraft: ${study.file}: unknown setting 'train\\.batchsize'; did you mean 'train\\.batchSize'\\? \\(known: model, `));
    expect(existsSync(study.study)).toBe(false);
    const file = await trainWithYaml('typo', 'batch_size: 32');
    expect(file.err[0]).toMatch(new RegExp(`^regraft: ${file.file}: unknown setting 'batch_size'; did you mean 'batchSize'\\?`));
    await expect(train({ model: await MODEL, data: MNIST_SUBSET, out: join(dir, 'api-typo'), batchsize: 32 } as never)).rejects.toThrow(
      /^train: unknown setting 'batchsize'; did you mean 'batchSize'\?/,
    );
    const flag = await runCli('train', await MODEL, '--data', MNIST_SUBSET, '--out', join(dir, 'flag-typo'), '--batchsize', '32');
    expectOneLine(flag, 2, "unknown option '--batchsize'; did you mean --batch-size? (see 'regraft --help')");
  });

  it('type errors name the type they got: the string "0.01", a list [32]', async () => {
    const lr = await trainWithYaml('lr-string', 'lr: "0.01"');
    expectOneLine(lr, 1, `${lr.file}: lr must be a number > 0, got the string "0.01"`);
    const batch = await trainWithYaml('batch-list', 'batchSize: [32]');
    expectOneLine(batch, 1, `${batch.file}: batchSize must be a positive integer, got a list [32]`);
    const study = await tuneWithTrainBlock('batch-list', 'batchSize: [32]');
    expectOneLine(study, 1, `${study.file}: train.batchSize must be a positive integer, got a list [32]`);
    const empty = await trainWithYaml('epochs-empty', 'patience:');
    expectOneLine(empty, 1, `${empty.file}: patience must be a whole number >= 0, got nothing (an empty value)`);
  });
});

describe('one key list, one set of types and ranges', () => {
  it('every setting but the model (the argument) is a train flag named after its key, and only those and five command flags are', () => {
    const command = buildProgram({ out: () => {}, err: () => {}, isTty: false }).commands.find((c) => c.name() === 'train')!;
    const flags = command.options.map((o) => o.long);
    const expected = TRAIN_SETTING_KEYS.filter((k) => k !== 'model').map((k) => `--${flagName(k)}`);
    expect(flags.sort()).toEqual([...expected, '--config', '--resume', '--export', '--test'].sort());
  });

  it('a study searches over exactly the searchable settings (plus the MLP builder\'s hidden and depth)', () => {
    expect([...TRAIN_PARAM_NAMES].sort()).toEqual([...TRAIN_SETTING_KEYS.filter((k) => TRAIN_SETTINGS[k].searchable), 'hidden', 'depth'].sort());
  });

  // Each bad value is refused by the flag (exit 2), by a config file and by a study's train block (exit 1), with
  // the same words: the ranges are one declaration, not three.
  it.each([
    ['epochs', '0', 'a positive integer'],
    ['valSplit', '1', 'a number in [0, 1)'],
    ['momentum', '1', 'a number in [0, 1)'],
    ['lr', '0', 'a number > 0'],
    ['limit', '-1', 'a whole number >= 0'],
    ['threads', '1.5', 'a positive integer'],
    ['accumulate', '0', 'a positive integer'],
  ] as const)('%s %s is refused everywhere: it must be %s', async (key, value, expected) => {
    const flag = await runCli('train', await MODEL, '--data', MNIST_SUBSET, '--out', join(dir, `flag-${key}`), `--${flagName(key)}`, value);
    expectOneLine(flag, 2, `--${flagName(key)} must be ${expected}, got ${value}`);
    const file = await trainWithYaml(`range-${key}`, `${key}: ${value}`);
    expectOneLine(file, 1, `${file.file}: ${key} must be ${expected}, got ${value}`);
    const study = await tuneWithTrainBlock(`range-${key}`, `${key}: ${value}`);
    expectOneLine(study, 1, `${study.file}: train.${key} must be ${expected}, got ${value}`);
  });

  it('the fine-tuning settings (penalize, accumulate, dropoutAfterNode, train, untie) are schema entries like the rest', async () => {
    expect(checkSettings({ penalize: 'all', train: 'scale, temperature', dropoutAfterNode: ['*/Softmax'], untie: true, accumulate: 4 }, { source: 'x' })).toEqual({
      penalize: ['all'], train: ['scale', 'temperature'], dropoutAfterNode: ['*/Softmax'], untie: true, accumulate: 4,
    });
    expect(() => checkSettings({ untie: 'yes' }, { source: 'x' })).toThrow('x: untie must be true or false, got the string "yes" (write true or false');
    expect(() => checkSettings({ acumulate: 2 }, { source: 'x' })).toThrow("x: unknown setting 'acumulate'; did you mean 'accumulate'?");
    const study = await tuneWithTrainBlock('untie-no', 'untie: no');
    expectOneLine(study, 1, `${study.file}: train.untie must be true or false, got the string "no" (write true or false, unquoted: YAML 1.2 reads yes, no, on and off as text)`);
  });

  it('a config file is read with the same checks as the API: kebab-case keys, and a key given twice is refused', async () => {
    const file = join(dir, 'twice.yaml');
    writeFileSync(file, 'batchSize: 8\nbatch-size: 16\n');
    await expect(readConfigFile(file)).rejects.toThrow(`${file}: setting 'batchSize' is given twice (as 'batchSize' and 'batch-size'); keep one`);
  });
});
