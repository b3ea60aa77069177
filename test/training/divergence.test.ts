/**
 * Divergence whose loss stays finite (issue #14: Adam at lr 1e6 ended with a training loss of 1.2e9, 9% accuracy,
 * exit 0 and no word): a warning naming the learning rate once the epoch's training loss passes 100 times its
 * lowest, an error with --strict (exit 1, nothing of the run left to block the corrected rerun).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DivergenceWatch } from '../../src/training/divergence.js';
import { runCli } from '../cli/helpers.js';
import { MNIST_SUBSET, readMetrics, tempDir, writeSmallMlp } from './fixtures/runs.js';

const dir = tempDir('divergence');
const MODEL = writeSmallMlp(dir);
const args = async (out: string, lr: string, ...extra: string[]) =>
  ['train', await MODEL, '--data', MNIST_SUBSET, '--limit', '1000', '--epochs', '2', '--optimizer', 'adam', '--lr', lr, '--out', out, ...extra];
const WARNING = /^warning: training loss (\S+) in epoch 1 is over 100 times its lowest \((\S+), in the first batch\): the run is diverging; lower the learning rate \(--lr, now 1000000\); --strict makes this an error$/;

describe('a diverging run', () => {
  it('Adam at lr 1e6 trains on, with one warning naming the learning rate (exit 0)', async () => {
    const out = join(dir, 'warned');
    const r = await runCli(...(await args(out, '1e6')));
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const warnings = r.out.filter((l) => l.startsWith('warning:'));
    expect(warnings).toHaveLength(1);
    const [, loss, lowest] = WARNING.exec(warnings[0])!;
    expect(Number(loss)).toBeGreaterThan(100 * Number(lowest));
    expect(Number(loss)).toBeCloseTo(readMetrics(out)[0].train_loss, -Math.floor(Math.log10(Number(loss))) + 2);
  });

  it('--strict makes it an error (exit 1) before the diverged epoch is saved; the corrected command runs in the same --out', async () => {
    const out = join(dir, 'strict');
    const r = await runCli(...(await args(out, '1e6', '--strict')));
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/^regraft: train: training loss \S+ in epoch 1 is over 100 times its lowest \(\S+, in the first batch\): the run is diverging; lower the learning rate \(--lr, now 1000000\); stopped by --strict before epoch 1's checkpoint$/);
    expect(existsSync(out)).toBe(false);
    const fixed = await runCli(...(await args(out, '0.001', '--strict')));
    expect(fixed.err).toEqual([]);
    expect(fixed.code).toBe(0);
    expect(fixed.out.filter((l) => l.startsWith('warning:'))).toEqual([]);
  });
});

describe('DivergenceWatch', () => {
  it('compares epoch means with the lowest loss so far, the first batch included', () => {
    const watch = new DivergenceWatch();
    watch.see(2.3, 'the first batch');
    expect(watch.check(1, 0.5, 0.1)).toBeUndefined();
    expect(watch.check(2, 0.01, 0.1)).toBeUndefined();
    // 0.9 is 90 times the lowest: noisy, not diverging.
    expect(watch.check(3, 0.9, 0.1)).toBeUndefined();
    expect(watch.check(4, 2.4, 0.1)).toBe('training loss 2.40 in epoch 4 is over 100 times its lowest (0.0100, in epoch 2): the run is diverging; lower the learning rate (--lr, now 0.1)');
  });

  it('a fitted model whose tiny loss grows a hundredfold but stays far below where it started is not diverging', () => {
    const watch = new DivergenceWatch([{ epoch: 1, train_loss: 0.7 }, { epoch: 2, train_loss: 1e-6 }]);
    expect(watch.check(3, 1e-3, 0.01)).toBeUndefined();
    expect(watch.check(4, 0.8, 0.01)).toMatch(/^training loss 0.800 in epoch 4 is over 100 times its lowest \(1.00e-6, in epoch 2\)/);
  });
});
