import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatTable, rankTrials, renderHtmlReport, reportJson, tune, type Params, type StudySummary, type TrialContext } from '../../src/tune/index.js';
import { fixedParams } from '../../src/tune/report.js';

/** Runs a small study with every status in it: complete, pruned and failed trials. */
async function mixedStudy(): Promise<StudySummary> {
  return tune({
    config: {
      name: 'mnist <mlp> & friends',
      space: {
        lr: { loguniform: [1e-3, 0.3] },
        batchSize: { categorical: [32, 64, 128] },
        dropoutRatio: { uniform: [0, 0.6] },
        epochs: 6,
      },
      objective: { metric: 'val_accuracy', mode: 'max' },
      strategy: 'random',
      trials: 10,
      seed: 3,
      pruner: { asha: { minEpochs: 2, eta: 2 } },
    },
    trialFunction: async (params: Params, ctx: TrialContext) => {
      if (ctx.trialId === 4) throw new Error('loss diverged to NaN at epoch 1; lower lr');
      const quality = 1 - Math.abs(Math.log10(params.lr as number) + 1.5) / 2 - (params.dropoutRatio as number) / 4;
      let acc = 0;
      for (let epoch = 1; epoch <= 6; epoch++) {
        acc = quality * (1 - Math.exp(-epoch / 2));
        if ((await ctx.report(epoch, { val_accuracy: acc })) === 'stop') break;
      }
      return { val_accuracy: acc };
    },
    studyPath: join(mkdtempSync(join(tmpdir(), 'regraft-report-')), 'study.db'),
  });
}

/** Checks that every element opened in `markup` is closed in order (void elements of HTML excepted). */
function unbalancedTags(markup: string): string[] {
  const voidElements = new Set(['meta', 'br', 'hr', 'img', 'input', 'link']);
  const stack: string[] = [];
  const problems: string[] = [];
  for (const m of markup.replace(/<!DOCTYPE[^>]*>/i, '').matchAll(/<(\/?)([a-zA-Z][\w:-]*)([^>]*?)(\/?)>/g)) {
    const [, closing, name, , selfClosing] = m;
    if (selfClosing || (!closing && voidElements.has(name.toLowerCase()))) continue;
    if (!closing) stack.push(name);
    else if (stack.pop() !== name) problems.push(`unexpected </${name}>`);
  }
  return [...problems, ...stack.map((n) => `unclosed <${n}>`)];
}

function tableHeader(html: string): string[] {
  const head = /<thead><tr>(.*?)<\/tr><\/thead>/.exec(html)?.[1] ?? '';
  return [...head.matchAll(/<th>(.*?)<\/th>/g)].map((m) => m[1]);
}

function tableRows(html: string): string[][] {
  const body = /<tbody>(.*?)<\/tbody>/s.exec(html)?.[1] ?? '';
  return [...body.matchAll(/<tr[^>]*>(.*?)<\/tr>/g)].map((m) => [...m[1].matchAll(/<td>(.*?)<\/td>/g)].map((c) => c[1]));
}

describe('study reports', () => {
  it('ranks complete trials best first, then pruned, then failed', async () => {
    const study = await mixedStudy();
    const rows = rankTrials(study);
    expect(rows.map((r) => r.rank)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const statuses = rows.map((r) => r.status);
    expect(statuses.indexOf('pruned')).toBeGreaterThan(statuses.lastIndexOf('complete'));
    expect(statuses[statuses.length - 1]).toBe('failed');
    const complete = rows.filter((r) => r.status === 'complete').map((r) => r.objective as number);
    expect(complete).toEqual([...complete].sort((a, b) => b - a));
    expect(rows[0].trialId).toBe(study.best?.id);
    expect(rows[rows.length - 1].detail).toBe('loss diverged to NaN at epoch 1; lower lr');
  });

  it('formats an aligned terminal table with one line per trial', async () => {
    const table = formatTable(rankTrials(await mixedStudy()), { objectiveLabel: 'val_accuracy' });
    const lines = table.split('\n');
    expect(lines).toHaveLength(12);
    expect(lines[0]).toMatch(/^rank\s+trial\s+status\s+val_accuracy\s+epochs run\s+lr\s+batchSize\s+dropoutRatio\s+epochs\s+detail$/);
    expect(lines[1]).toMatch(/^-+( +-+)+$/);
    expect(lines[2]).toMatch(/^1 +\d+ +complete /);
    expect(lines[11]).toMatch(/failed .*loss diverged/);
  });

  it('gives pipelines the best parameters and every curve as JSON', async () => {
    const study = await mixedStudy();
    const json = reportJson(study);
    expect(json.best).toEqual({ trialId: study.best?.id, objective: study.best?.objective, params: study.best?.params });
    expect(json.trials).toHaveLength(10);
    expect(json.trials[0].curve.length).toBe(6);
    expect(json.counts.failed).toBe(1);
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  it('renders one well-formed, self-contained HTML page with an SVG per chart', async () => {
    const study = await mixedStudy();
    const html = renderHtmlReport(study);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(unbalancedTags(html)).toEqual([]);
    // objective by trial, one per non-fixed parameter (lr, batchSize, dropoutRatio), learning curves
    // ... and the parallel coordinates of the three searched parameters
    expect(html.match(/<svg /g)).toHaveLength(6);
    expect(html).toContain('val_accuracy vs lr');
    expect(html).toContain('lr (log scale)');
    expect(html).toMatch(/Learning curves of the best [1-5] trials/);
    expect(html).toContain('best so far');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    // Names from the config are escaped, not injected.
    expect(html).toContain('mnist &lt;mlp&gt; &amp; friends');
    expect(html).not.toContain('<mlp>');
    expect(html.match(/<tr class="/g)).toHaveLength(10);
  });

  it('states a constant parameter once above the table instead of as a column, and keeps it in the JSON', async () => {
    const study = await mixedStudy();
    const html = renderHtmlReport(study);
    expect(html).toContain('<h2>Trials, best first</h2>\n<p class="fixed">Fixed: epochs = 6</p>\n<table>');
    expect(tableHeader(html)).toEqual(['rank', 'trial', 'status', 'val_accuracy', 'epochs run', 'lr', 'batchSize', 'dropoutRatio', 'detail']);
    for (const row of tableRows(html)) expect(row).toHaveLength(9);
    // Pipelines read every parameter from the JSON report, the fixed ones included.
    expect(reportJson(study).trials.every((t) => t.params.epochs === 6)).toBe(true);
  });

  it('treats one-value entries (one choice, a range whose ends meet) as fixed, with neither column nor chart', async () => {
    const study = await tune({
      config: {
        space: {
          lr: { loguniform: [1e-3, 0.3] },
          optimizer: { categorical: ['adam'] },
          hidden: { int: [64, 64] },
          depth: { int: [2, 3], step: 2 },
          momentum: { uniform: [0.9, 0.9] },
          l2: { loguniform: [1e-4, 1e-4] },
          dropoutAfter: 'Relu & Gelu',
        },
        objective: { metric: 'acc', mode: 'max' },
        strategy: 'random',
        trials: 3,
        seed: 1,
      },
      trialFunction: async (params: Params) => ({ acc: 1 - Math.abs(Math.log10(params.lr as number) + 2) }),
      studyPath: join(mkdtempSync(join(tmpdir(), 'regraft-report-')), 'study.db'),
    });
    const html = renderHtmlReport(study);
    const l2 = study.trials[0].params.l2 as number;
    expect(l2).toBeCloseTo(1e-4, 15);
    expect([...fixedParams(study)]).toEqual([
      ['optimizer', 'adam'],
      ['hidden', 64],
      ['depth', 2],
      ['momentum', 0.9],
      ['l2', l2],
      ['dropoutAfter', 'Relu & Gelu'],
    ]);
    expect(html).toContain('<p class="fixed">Fixed: optimizer = adam, hidden = 64, depth = 2, momentum = 0.9, l2 = 1.00e-4, dropoutAfter = Relu &amp; Gelu</p>');
    expect(tableHeader(html)).toEqual(['rank', 'trial', 'status', 'acc', 'epochs run', 'lr', 'detail']);
    expect(html.match(/<svg /g)).toHaveLength(3); // objective by trial, acc vs lr, learning curves
    expect(html).not.toContain('acc vs optimizer');
  });

  it('keeps a column when the trials disagree on a one-value entry (a study whose space was edited)', async () => {
    const study = await mixedStudy();
    const edited = { ...study, trials: study.trials.map((t, i) => (i === 0 ? { ...t, params: { ...t.params, epochs: 8 } } : t)) };
    expect(fixedParams(edited).has('epochs')).toBe(false);
    const html = renderHtmlReport(edited);
    expect(html).not.toContain('class="fixed"');
    expect(tableHeader(html)).toContain('epochs');
  });

  it('shows no fixed line when every parameter varies', async () => {
    const study = await mixedStudy();
    const html = renderHtmlReport({ ...study, config: { ...study.config, space: { lr: study.config.space.lr } } });
    expect(html).not.toContain('Fixed:');
  });

  it('puts whole-number ticks on axes of whole numbers (trials, epochs): no trial 1.5', async () => {
    const study = await tune({
      config: { name: 'three', space: { lr: { loguniform: [1e-3, 0.3] } }, objective: { metric: 'val_loss', mode: 'min' }, strategy: 'random', trials: 3, seed: 1, pruner: null },
      trialFunction: async (params: Params, ctx: TrialContext) => {
        for (let epoch = 1; epoch <= 3; epoch++) await ctx.report(epoch, { val_loss: (params.lr as number) / epoch });
        return { val_loss: (params.lr as number) / 3 };
      },
      studyPath: join(mkdtempSync(join(tmpdir(), 'regraft-report-')), 'study.db'),
    });
    const byTrial = renderHtmlReport(study).split('</svg>')[0];
    const ticks = [...byTrial.matchAll(/<text[^>]*>([-\d.e]+)<\/text>/g)].map((m) => Number(m[1]));
    expect(ticks).toEqual(expect.arrayContaining([1, 2, 3]));
    // The y ticks (val_loss) are below 1, so every tick between 1 and 3 is on the trial axis.
    expect(ticks.filter((t) => t > 1 && t < 3 && !Number.isInteger(t))).toEqual([]);
  });

  it('renders a study with no finished trials without failing', async () => {
    const study = await tune({
      config: { space: { lr: { loguniform: [1e-3, 0.3] } }, objective: { metric: 'acc' }, trials: 1 },
      trialFunction: async () => {
        throw new Error('no data');
      },
      studyPath: join(mkdtempSync(join(tmpdir(), 'regraft-report-')), 'study.db'),
    });
    const html = renderHtmlReport(study);
    expect(unbalancedTags(html)).toEqual([]);
    expect(html).toContain('No trial has completed yet.');
    expect(html).toContain('no data yet');
  });
});
