import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RegraftError } from '../../src/errors.js';
import {
  TRAINER_PARAM_NAMES, categorical, fixed, int, loadStudyConfig, loguniform, parseSpace, parseStudyConfig, uniform,
} from '../../src/tune/index.js';

const ARTICLE_CONFIG = {
  space: {
    lr: { loguniform: [1e-3, 0.3] },
    batchSize: { categorical: [32, 64, 128] },
    l2: { loguniform: [1e-6, 1e-2] },
    dropoutRatio: { uniform: [0, 0.6] },
    hidden: { int: [32, 512], log: true },
    epochs: 9,
  },
  objective: { metric: 'val_accuracy', mode: 'max' },
  strategy: 'tpe',
  trials: 16,
  parallel: 2,
  seed: 0,
  pruner: { asha: { minEpochs: 1, eta: 3, maxEpochs: 9 } },
};

/** The error thrown by fn, checked to be a one-line RegraftError. */
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RegraftError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected an error');
}

describe('search space parsing', () => {
  it('reads every parameter form of the config', () => {
    const config = parseStudyConfig(ARTICLE_CONFIG, { allowedParams: TRAINER_PARAM_NAMES });
    expect(config.space).toEqual({
      lr: { kind: 'float', low: 1e-3, high: 0.3, log: true },
      batchSize: { kind: 'categorical', choices: [32, 64, 128] },
      l2: { kind: 'float', low: 1e-6, high: 1e-2, log: true },
      dropoutRatio: { kind: 'float', low: 0, high: 0.6, log: false },
      hidden: { kind: 'int', low: 32, high: 512, log: true, step: 1 },
      epochs: { kind: 'fixed', value: 9 },
    });
    expect(config.objective).toEqual({ metric: 'val_accuracy', mode: 'max' });
    expect(config.strategy).toEqual({ name: 'tpe' });
    expect(config.pruner).toEqual({ name: 'asha', metric: 'val_accuracy', mode: 'max', minEpochs: 1, eta: 3, maxEpochs: 9, minTrialsAtRung: 1 });
    expect([config.trials, config.parallel, config.seed, config.name]).toEqual([16, 2, 0, 'study']);
  });

  it('gives the builder functions the same meaning as the config form', () => {
    const space = parseSpace({
      lr: loguniform(1e-3, 0.3),
      momentum: uniform(0, 0.99),
      epochs: int(2, 10, { step: 2 }),
      optimizer: categorical(['sgd', 'momentum']),
      seed: fixed(1),
    });
    expect(space).toEqual(parseSpace({
      lr: { loguniform: [1e-3, 0.3] },
      momentum: { uniform: [0, 0.99] },
      epochs: { int: [2, 10], step: 2 },
      optimizer: { categorical: ['sgd', 'momentum'] },
      seed: { fixed: 1 },
    }));
  });

  it('loads YAML and JSON files, with options on strategy and pruner', () => {
    const dir = mkdtempSync(join(tmpdir(), 'regraft-space-'));
    const yamlPath = join(dir, 'mnist-mlp.yaml');
    writeFileSync(yamlPath, [
      'space:',
      '  lr: { loguniform: [1.0e-3, 0.3] }',
      '  optimizer: sgd',
      'objective: { metric: val_loss, mode: min }',
      'strategy: { tpe: { startupTrials: 4, gamma: 0.3 } }',
      'pruner: asha',
    ].join('\n'));
    const fromYaml = loadStudyConfig(yamlPath);
    expect(fromYaml.name).toBe('mnist-mlp');
    expect(fromYaml.strategy).toEqual({ name: 'tpe', startupTrials: 4, gamma: 0.3 });
    expect(fromYaml.pruner).toMatchObject({ name: 'asha', metric: 'val_loss', mode: 'min', minEpochs: 1, eta: 3 });
    expect(fromYaml.trials).toBe(20);

    const jsonPath = join(dir, 'study.json');
    writeFileSync(jsonPath, JSON.stringify(ARTICLE_CONFIG));
    expect(loadStudyConfig(jsonPath).space).toEqual(parseStudyConfig(ARTICLE_CONFIG).space);
  });

  it('round-trips the parsed config (as a study file stores it)', () => {
    const config = parseStudyConfig({ ...ARTICLE_CONFIG, strategy: { tpe: { candidates: 12 } } });
    expect(parseStudyConfig(JSON.parse(JSON.stringify(config)))).toEqual(config);
  });

  it.each([
    ['low above high', { lr: { uniform: [0.3, 0.1] } }, /'lr'.*low 0.3 is greater than high 0.1/],
    ['log of zero', { l2: { loguniform: [0, 0.1] } }, /'l2'.*log scale needs positive bounds/],
    ['log of a negative int bound', { hidden: { int: [-4, 8], log: true } }, /'hidden'.*log scale needs positive bounds/],
    ['empty categorical', { batchSize: { categorical: [] } }, /'batchSize'.*at least one choice/],
    ['repeated categorical', { batchSize: { categorical: [32, 32] } }, /'batchSize'.*repeat/],
    ['two forms at once', { lr: { uniform: [0, 1], loguniform: [1, 2] } }, /'lr'.*exactly one of/],
    ['a misspelt key', { lr: { loguniform: [1e-3, 1], grd: 3 } }, /'lr'.*unknown key 'grd'/],
    ['a non-numeric bound', { lr: { uniform: [0, 'x'] } }, /'lr'.*two finite numbers/],
    ['a fractional int bound', { depth: { int: [1.5, 4] } }, /'depth'.*integers/],
    ['a step on a log int', { hidden: { int: [1, 64], log: true, step: 2 } }, /'hidden'.*cannot have a step/],
    ['a grid point outside the range', { lr: { uniform: [0, 1], grid: [0.5, 2] } }, /'lr'.*grid value 2 is outside/],
  ])('rejects %s with a one-line error naming the parameter', (_case, space, pattern) => {
    expect(errorOf(() => parseStudyConfig({ ...ARTICLE_CONFIG, space }))).toMatch(pattern);
  });

  it('rejects a parameter the trainer does not know, naming it and the known ones', () => {
    const message = errorOf(() => parseSpace({ learningRate: { uniform: [0, 1] } }, { allowedParams: TRAINER_PARAM_NAMES }));
    // The nearest known name first, then all of them (in config-schema.ts's order).
    expect(message).toMatch(/parameter 'learningRate': unknown parameter; did you mean 'lr'\? \(the trainer accepts .*\bbatchSize, lr\b.*\)$/);
  });

  it('rejects unknown strategies, pruners, objective modes and top-level keys', () => {
    expect(errorOf(() => parseStudyConfig({ ...ARTICLE_CONFIG, strategy: 'bayes' }))).toMatch(/unknown strategy "bayes"; use one of grid, random, tpe/);
    expect(errorOf(() => parseStudyConfig({ ...ARTICLE_CONFIG, pruner: 'hyperband' }))).toMatch(/unknown pruner "hyperband"/);
    expect(errorOf(() => parseStudyConfig({ ...ARTICLE_CONFIG, objective: { metric: 'acc', mode: 'up' } }))).toMatch(/mode must be 'min' or 'max'/);
    expect(errorOf(() => parseStudyConfig({ ...ARTICLE_CONFIG, trails: 3 }))).toMatch(/unknown key 'trails'/);
    expect(errorOf(() => parseStudyConfig({ ...ARTICLE_CONFIG, pruner: { asha: { eta: 1 } } }))).toMatch(/asha.eta must be a number greater than 1/);
  });

  it('names the file in errors from a config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'regraft-space-'));
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, 'space: { lr: { loguniform: [-1, 1] } }\nobjective: { metric: loss }\n');
    expect(errorOf(() => loadStudyConfig(path))).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: search space parameter 'lr'`));
  });
});
