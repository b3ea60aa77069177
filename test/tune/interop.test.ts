import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pythonWith, runPython } from '../python.js';
import { paramImportances } from '../../src/tune/importance.js';
import { loadStudyFrom } from '../../src/tune/snapshot.js';
import type { ThrowawayPostgres } from '../postgres.js';
import { tune, type Params, type TrialContext } from '../../src/tune/index.js';
import { postgresForTests, spawnWorker } from './distributed-helpers.js';

// Python Optuna 5 and regraft on the same storage, both ways, on SQLite and on PostgreSQL (psycopg2 URLs, which
// regraft accepts as they are).
let python: string | undefined;
let pythonMissing: string | undefined;
let pg: ThrowawayPostgres | undefined;
let pgMissing: string | undefined;

beforeAll(async () => {
  const env = await pythonWith(['optuna==5.0.0', 'psycopg2-binary']);
  python = env.python;
  pythonMissing = env.missing;
  ({ pg, missing: pgMissing } = await postgresForTests());
}, 600_000);

afterAll(async () => {
  await pg?.destroy();
});

const storages: [string, () => string | undefined][] = [
  ['SQLite', () => `sqlite:///${join(mkdtempSync(join(tmpdir(), 'regraft-interop-')), 'study.db')}`],
  ['PostgreSQL', () => pg?.url.replace('postgresql://', 'postgresql+psycopg2://')],
];

/** An objective whose parameters matter clearly differently: x a lot, lr less, width barely. */
async function separatedEffects(params: Params, ctx: TrialContext) {
  const x = params.x as number;
  const lr = params.lr as number;
  const quality = 3 * x + (Math.log10(lr) + 3) / 2 + 0.02 * (params.width as number);
  let score = 0;
  for (let epoch = 1; epoch <= 3; epoch++) {
    score = quality * (1 - 0.5 ** epoch);
    if ((await ctx.report(epoch, { score })) === 'stop') break;
  }
  return { score };
}

const READ_STUDY = `
import json, sys, optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.load_study(study_name=sys.argv[2], storage=sys.argv[1])
best = study.best_trial
print(json.dumps({
  "direction": study.direction.name,
  "best": {"number": best.number, "value": best.value, "params": best.params,
           "distributions": {k: [type(d).__name__, getattr(d, "log", None), list(getattr(d, "choices", []))] for k, d in best.distributions.items()},
           "intermediate": {str(k): v for k, v in best.intermediate_values.items()}},
  "states": [t.state.name for t in study.trials],
  "rungs": sorted({k for t in study.trials for k in t.system_attrs if k.startswith("completed_rung_")}),
  "importances": optuna.importance.get_param_importances(study, params=["x", "lr", "width"]),
}))
`;

describe.each(storages)('Python Optuna and regraft on one %s storage', (backend, makeUrl) => {
  const skipReason = () => pythonMissing ?? (backend === 'PostgreSQL' ? pgMissing : undefined);

  it('optuna.load_study reads a regraft study: best trial, parameters with distributions, intermediate values, ASHA rungs, importances in the same order', async (ctx) => {
    if (skipReason() || !python) return ctx.skip(skipReason());
    const storage = makeUrl() as string;
    const summary = await tune({
      config: {
        name: 'from-regraft',
        space: { x: { uniform: [0, 1] }, lr: { loguniform: [1e-3, 1] }, width: { categorical: [1, 2, 3] }, epochs: 3 },
        objective: { metric: 'score', mode: 'max' },
        strategy: 'random',
        trials: 40,
        seed: 4,
        pruner: { asha: { minEpochs: 1, eta: 3, maxEpochs: 3, minTrialsAtRung: 4 } },
      },
      trialFunction: separatedEffects,
      storage,
    });
    const read = JSON.parse(await runPython(python, READ_STUDY, [storage, 'from-regraft'])) as {
      direction: string;
      best: { number: number; value: number; params: Params; distributions: Record<string, [string, boolean | null, unknown[]]>; intermediate: Record<string, number> };
      states: string[];
      rungs: string[];
      importances: Record<string, number>;
    };
    const best = summary.best!;
    expect(read.direction).toBe('MAXIMIZE');
    expect(read.best.number).toBe(best.id - 1);
    expect(read.best.value).toBe(best.objective);
    expect(read.best.params).toEqual(best.params);
    expect(read.best.distributions).toEqual({
      x: ['FloatDistribution', false, []],
      lr: ['FloatDistribution', true, []],
      width: ['CategoricalDistribution', null, [1, 2, 3]],
      epochs: ['CategoricalDistribution', null, [3]],
    });
    expect(read.best.intermediate).toEqual(Object.fromEntries(best.epochs.map((e) => [String(e.epoch), e.metrics.score])));
    expect(read.states.filter((s) => s === 'COMPLETE')).toHaveLength(summary.counts.complete);
    expect(read.states.filter((s) => s === 'PRUNED')).toHaveLength(summary.counts.pruned);
    expect(summary.counts.pruned).toBeGreaterThan(0);
    expect(read.rungs).toEqual(['completed_rung_0']);
    // Optuna's fANOVA and regraft's variance shares rank the parameters alike.
    const optunaOrder = Object.entries(read.importances).sort((a, b) => b[1] - a[1]).map(([name]) => name);
    const ours = paramImportances(summary, ['x', 'lr', 'width']);
    expect(optunaOrder).toEqual(['x', 'lr', 'width']);
    expect(ours.map((r) => r.name)).toEqual(optunaOrder);
  });

  it('a study created in Python with enqueue_trial is drained by regraft workers, and Python reads the results', async (ctx) => {
    if (skipReason() || !python) return ctx.skip(skipReason());
    const storage = makeUrl() as string;
    await runPython(python, `
import sys, optuna
study = optuna.create_study(study_name="from-python", storage=sys.argv[1], direction="maximize")
for x, width in [(0.1, 2), (0.7, 1), (0.4, 2)]:
    study.enqueue_trial({"x": x, "width": width})
`, [storage]);
    const config = {
      space: { x: { uniform: [0, 1] }, width: { categorical: [1, 2] }, epochs: 2, sleepMs: 10 },
      objective: { metric: 'score', mode: 'max' },
      strategy: 'random',
      trials: 3,
      parallel: 1,
    };
    const ends = await Promise.all([spawnWorker({ storage, studyName: 'from-python', config }), spawnWorker({ storage, studyName: 'from-python', config })].map((w) => w.exited));
    for (const end of ends) expect(end.code, end.out).toBe(0);

    const read = JSON.parse(await runPython(python, `
import json, sys, optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.load_study(study_name="from-python", storage=sys.argv[1])
print(json.dumps([{"state": t.state.name, "params": t.params, "value": t.value} for t in study.trials]))
`, [storage])) as { state: string; params: Params; value: number | null }[];
    expect(read.map((t) => t.state)).toEqual(['COMPLETE', 'COMPLETE', 'COMPLETE']);
    expect(read.map((t) => t.params)).toEqual([
      { x: 0.1, width: 2, epochs: 2, sleepMs: 10 },
      { x: 0.7, width: 1, epochs: 2, sleepMs: 10 },
      { x: 0.4, width: 2, epochs: 2, sleepMs: 10 },
    ]);
    const study = await loadStudyFrom({ storage, studyName: 'from-python' });
    expect(read.map((t) => t.value)).toEqual(study.trials.map((t) => t.objective));
    expect(study.best?.params.x).toBe(0.7);
  });
});
