import { describe, expect, it } from 'vitest';
import { AshaPruner, type AshaConfig } from '../../src/tune/index.js';

const asha = (over: Partial<AshaConfig> = {}): AshaPruner =>
  new AshaPruner({ name: 'asha', metric: 'acc', mode: 'max', minEpochs: 1, eta: 3, maxEpochs: 9, minTrialsAtRung: 1, ...over });

/** A synthetic learning curve that saturates at `quality`. */
const curve = (quality: number, epoch: number) => quality * (1 - Math.exp(-epoch / 2));

/** Runs trials one after another through the pruner; returns the epochs each one got. */
function runTrials(pruner: AshaPruner, qualities: number[], maxEpochs = 9, metric = 'acc'): number[] {
  return qualities.map((q, i) => {
    for (let epoch = 1; epoch <= maxEpochs; epoch++) {
      if (pruner.report(i + 1, epoch, { [metric]: curve(q, epoch) }) === 'stop') return epoch;
    }
    return maxEpochs;
  });
}

describe('ASHA pruner', () => {
  it('places rungs at minEpochs * eta^k', () => {
    const p = asha({ minEpochs: 2, eta: 2 });
    expect([0, 1, 2, 3].map((k) => p.rungEpoch(k))).toEqual([2, 4, 8, 16]);
  });

  it('stops poor trials early and lets the best run to the end', () => {
    const qualities = [0.5, 0.9, 0.3, 0.2, 0.95, 0.4, 0.1, 0.6, 0.35, 0.99, 0.25, 0.45];
    const epochs = runTrials(asha(), qualities);
    // The best trial (0.99) and the first-best ones are never pruned.
    expect(epochs[9]).toBe(9);
    expect(epochs[1]).toBe(9);
    // Trials worse than an earlier one stop at the first rung or the next.
    for (const i of [2, 3, 6, 10]) expect(epochs[i]).toBeLessThanOrEqual(3);
    const total = epochs.reduce((a, b) => a + b, 0);
    expect(total).toBeLessThan(0.6 * 9 * qualities.length);
  });

  it('keeps the top 1/eta at a rung once eta trials reached it', () => {
    const p = asha({ maxEpochs: 3 }); // one rung, at epoch 1
    expect(p.report(1, 1, { acc: 0.5 })).toBe('continue');
    expect(p.report(2, 1, { acc: 0.4 })).toBe('stop'); // not the best of 2
    expect(p.report(3, 1, { acc: 0.45 })).toBe('stop'); // 3 trials: only the best goes on
    expect(p.report(4, 1, { acc: 0.6 })).toBe('continue');
    for (let t = 5; t <= 6; t++) p.report(t, 1, { acc: 0.1 });
    // 7 values at the rung: floor(7 / 3) = 2 go on, so the second best of them continues.
    expect(p.report(7, 1, { acc: 0.55 })).toBe('continue');
    // Once told to stop, a trial stays stopped.
    expect(p.report(2, 2, { acc: 0.99 })).toBe('stop');
  });

  it('minimises when asked, and ranks a missing or NaN metric last', () => {
    const p = asha({ metric: 'loss', mode: 'min', maxEpochs: 3 });
    expect(p.report(1, 1, { loss: 0.3 })).toBe('continue');
    expect(p.report(2, 1, { loss: 0.2 })).toBe('continue');
    expect(p.report(3, 1, { loss: NaN })).toBe('stop');
    expect(p.report(4, 1, { accuracy: 0.9 })).toBe('stop');
  });

  it('lets everyone continue until minTrialsAtRung trials reached a rung', () => {
    const p = asha({ minTrialsAtRung: 3, maxEpochs: 3 });
    expect(p.report(1, 1, { acc: 0.9 })).toBe('continue');
    expect(p.report(2, 1, { acc: 0.1 })).toBe('continue');
    expect(p.report(3, 1, { acc: 0.05 })).toBe('stop');
  });

  it('restores rung values from stored epochs and forgets re-queued trials', () => {
    const p = asha({ maxEpochs: 3 });
    p.restore(1, [{ epoch: 1, metrics: { acc: 0.8 } }, { epoch: 2, metrics: { acc: 0.85 } }]);
    expect(p.report(2, 1, { acc: 0.5 })).toBe('stop');
    p.forget(1);
    p.forget(2);
    expect(p.report(2, 1, { acc: 0.5 })).toBe('continue');
  });
});
