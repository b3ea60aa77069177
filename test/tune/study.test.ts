import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RegraftError } from '../../src/errors.js';
import { loadStudy, tune, type Params, type TrialContext, type TrialRecord } from '../../src/tune/index.js';

const tempStudy = () => join(mkdtempSync(join(tmpdir(), 'regraft-study-')), 'study.db');

const bowlConfig = (over: Record<string, unknown> = {}) => ({
  space: { lr: { loguniform: [1e-4, 1] }, l2: { loguniform: [1e-7, 1e-1] }, optimizer: 'sgd' },
  objective: { metric: 'val_accuracy', mode: 'max' },
  strategy: { tpe: { startupTrials: 4 } },
  trials: 12,
  parallel: 1,
  seed: 1,
  ...over,
});

/** A deterministic "training run": accuracy rises per epoch towards a ceiling set by how close lr and l2 are to ideal. */
async function bowlTrial(params: Params, ctx: TrialContext): Promise<Record<string, number>> {
  const distance = (Math.log10(params.lr as number) + 1.5) ** 2 + 0.5 * (Math.log10(params.l2 as number) + 4) ** 2;
  const ceiling = 1 / (1 + distance);
  let acc = 0;
  for (let epoch = 1; epoch <= 9; epoch++) {
    acc = ceiling * (1 - Math.exp(-epoch / 2));
    if ((await ctx.report(epoch, { val_accuracy: acc, loss: 1 - acc })) === 'stop') break;
  }
  return { val_accuracy: acc };
}

describe('tune (inline executor)', () => {
  it('runs a study, records every trial and epoch, and emits events', async () => {
    const studyPath = tempStudy();
    const events = { trialStart: 0, trialEpoch: 0, trialFinish: [] as TrialRecord[], studyFinish: 0 };
    const summary = await tune({
      config: bowlConfig({ pruner: { asha: { minEpochs: 1, eta: 3, maxEpochs: 9 } } }),
      trialFunction: bowlTrial,
      studyPath,
      events: {
        trialStart: () => events.trialStart++,
        trialEpoch: () => events.trialEpoch++,
        trialFinish: (t) => events.trialFinish.push(t),
        studyFinish: () => events.studyFinish++,
      },
    });
    expect(summary.trials).toHaveLength(12);
    expect(summary.trials.map((t) => t.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(summary.counts.complete + summary.counts.pruned).toBe(12);
    expect(summary.counts.pruned).toBeGreaterThan(0);
    expect(summary.interrupted).toBeNull();
    expect([events.trialStart, events.trialFinish.length, events.studyFinish]).toEqual([12, 12, 1]);
    expect(events.trialEpoch).toBe(summary.trials.reduce((n, t) => n + t.epochs.length, 0));

    const pruned = summary.trials.filter((t) => t.status === 'pruned');
    for (const t of pruned) {
      expect(t.epochs.length).toBeLessThan(9);
      // A pruned trial keeps its last metrics, and its last value as the objective.
      expect(t.objective).toBe(t.epochs[t.epochs.length - 1].metrics.val_accuracy);
      expect(t.metrics.loss).toBe(t.epochs[t.epochs.length - 1].metrics.loss);
    }
    const best = summary.best as TrialRecord;
    expect(best.status).toBe('complete');
    for (const t of summary.trials) if (t.status === 'complete') expect(best.objective).toBeGreaterThanOrEqual(t.objective as number);
    for (const t of summary.trials) expect(existsSync(t.runDir)).toBe(true);

    // The file alone gives back the same study.
    const reloaded = loadStudy(studyPath);
    expect(reloaded.trials).toEqual(summary.trials);
    expect(reloaded.config).toEqual(summary.config);
  });

  it('records throwing trials, NaN objectives and missing metrics as failed and goes on', async () => {
    const emitter = new EventEmitter();
    const finished: TrialRecord[] = [];
    emitter.on('trialFinish', (t: TrialRecord) => finished.push(t));
    const summary = await tune({
      config: { space: { kind: { categorical: ['ok', 'throw', 'nan', 'missing', 'not-an-object', 'epochs-only'] } }, objective: { metric: 'score' }, strategy: 'grid', parallel: 1 },
      trialFunction: async (params, ctx) => {
        await ctx.report(1, params.kind === 'missing' ? { loss: 1 } : { score: 0.5 });
        if (params.kind === 'epochs-only') return {};
        if (params.kind === 'throw') throw new Error('out of memory in epoch 2');
        if (params.kind === 'nan') return { score: NaN };
        if (params.kind === 'missing') return { accuracy: 1 };
        if (params.kind === 'not-an-object') return 42 as unknown as Record<string, number>;
        return { score: 0.25 };
      },
      studyPath: tempStudy(),
      events: emitter,
    });
    const byKind = Object.fromEntries(summary.trials.map((t) => [t.params.kind, t]));
    expect(byKind.ok.status).toBe('complete');
    expect(byKind.ok.objective).toBe(0.25);
    expect(byKind.throw).toMatchObject({ status: 'failed', error: 'out of memory in epoch 2', metrics: { score: 0.5 } });
    expect(byKind.nan).toMatchObject({ status: 'failed', error: "objective metric 'score' is NaN", objective: null });
    expect(byKind.nan.metrics.score).toBeNaN();
    expect(byKind.missing.error).toMatch(/no objective metric 'score'/);
    expect(byKind['not-an-object'].error).toMatch(/returned 42 instead of a metrics object/);
    // A trial that returns nothing new is judged on its last reported epoch.
    expect(byKind['epochs-only']).toMatchObject({ status: 'complete', objective: 0.5 });
    expect(finished).toHaveLength(6);
  });

  it('refuses to overwrite a study, to resume with another space, and leaves no file for a bad config', async () => {
    const studyPath = tempStudy();
    await tune({ config: bowlConfig({ trials: 2 }), trialFunction: bowlTrial, studyPath });
    await expect(tune({ config: bowlConfig({ trials: 2 }), trialFunction: bowlTrial, studyPath })).rejects.toThrow(/already holds study 'study' \(2 trials\); resume it/);
    const otherSpace = bowlConfig({ space: { lr: { uniform: [0, 1] } } });
    await expect(tune({ config: otherSpace, trialFunction: bowlTrial, studyPath, resume: true })).rejects.toThrow(/its 'space' differs/);

    const badPath = tempStudy();
    await expect(tune({ config: bowlConfig({ strategy: 'anneal' }), trialFunction: bowlTrial, studyPath: badPath })).rejects.toThrow(RegraftError);
    expect(existsSync(badPath)).toBe(false);
  });

  it('stops on abort, marks the running trial interrupted, and a resume continues exactly where it was', async () => {
    // Reference: the same study, never interrupted.
    const reference = await tune({ config: bowlConfig(), trialFunction: bowlTrial, studyPath: tempStudy() });

    const studyPath = tempStudy();
    const controller = new AbortController();
    const calls = new Map<number, number>();
    const countingTrial = async (params: Params, ctx: TrialContext) => {
      calls.set(ctx.trialId, (calls.get(ctx.trialId) ?? 0) + 1);
      if (ctx.trialId === 7 && !controller.signal.aborted) controller.abort();
      return bowlTrial(params, ctx);
    };
    const stopped = await tune({ config: bowlConfig(), trialFunction: countingTrial, studyPath, signal: controller.signal });
    expect(stopped.interrupted).toBe('aborted');
    expect(stopped.trials).toHaveLength(7);
    expect(stopped.trials[6].status).toBe('interrupted');
    expect(stopped.trials[6].note).toMatch(/interrupted \(aborted\)/);

    const resumed = await tune({ trialFunction: countingTrial, studyPath, resume: true });
    expect(resumed.interrupted).toBeNull();
    expect(resumed.trials).toHaveLength(12);
    expect(resumed.trials.every((t) => t.status === 'complete')).toBe(true);
    // Trials 1-6 ran once, 7 twice (from scratch, same parameters), 8-12 once.
    expect([...calls.entries()].sort((a, b) => a[0] - b[0]).map(([, n]) => n)).toEqual([1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1]);
    expect(resumed.trials[6]).toMatchObject({ attempts: 2, note: expect.stringMatching(/re-queued on resume/) });
    // TPE saw the stored history, so the resumed study made the very suggestions of the uninterrupted one.
    expect(resumed.trials.map((t) => t.params)).toEqual(reference.trials.map((t) => t.params));
  });

  it('lets a resume raise the trial count, never past it', async () => {
    const studyPath = tempStudy();
    await tune({ config: bowlConfig({ trials: 3 }), trialFunction: bowlTrial, studyPath });
    const again = await tune({ config: bowlConfig({ trials: 3 }), trialFunction: bowlTrial, studyPath, resume: true });
    expect(again.trials).toHaveLength(3);
    const more = await tune({ config: bowlConfig({ trials: 5 }), trialFunction: bowlTrial, studyPath, resume: true });
    expect(more.trials.map((t) => t.id)).toEqual([1, 2, 3, 4, 5]);
    expect(more.config.trials).toBe(5);
  });
});
