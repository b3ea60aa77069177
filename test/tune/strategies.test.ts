import { describe, expect, it } from 'vitest';
import { RegraftError } from '../../src/errors.js';
import {
  GridStrategy, RandomStrategy, TpeStrategy, categorical, createStrategy, defaultTpeSettings, fixed, gridSize, int,
  loguniform, parseStudyConfig, uniform, type HistoryTrial, type Params, type SearchSpace, type Strategy,
} from '../../src/tune/index.js';

/** Asks a strategy for `n` trials, finishing each at once with objective f (so TPE sees a growing history). */
function runStrategy(strategy: Strategy, n: number, f: (p: Params) => number = () => 0): HistoryTrial[] {
  const history: HistoryTrial[] = [];
  for (let id = 1; id <= n; id++) {
    const params = strategy.suggest(history, id);
    if (!params) break;
    history.push({ id, params, status: 'complete', objective: f(params) });
  }
  return history;
}

describe('grid strategy', () => {
  const space: SearchSpace = {
    optimizer: categorical(['sgd', 'adam']),
    lr: loguniform(1e-3, 1e-1, { grid: 3 }),
    hidden: int(32, 128, { grid: [32, 128] }),
    epochs: fixed(5),
  };

  it('enumerates the cartesian product once, in order, then stops', () => {
    const grid = new GridStrategy(space);
    expect(grid.size).toBe(12);
    expect(gridSize(space)).toBe(12);
    const history = runStrategy(grid, 100);
    expect(history).toHaveLength(12);
    const keys = history.map((t) => JSON.stringify(t.params));
    expect(new Set(keys).size).toBe(12);
    for (const optimizer of ['sgd', 'adam']) {
      for (const lr of [1e-3, 1e-2, 1e-1]) {
        for (const hidden of [32, 128]) {
          const found = history.some((t) => t.params.optimizer === optimizer && Math.abs((t.params.lr as number) / lr - 1) < 1e-12 && t.params.hidden === hidden);
          expect(found, `${optimizer} ${lr} ${hidden}`).toBe(true);
        }
      }
    }
    expect(history[0].params).toEqual({ optimizer: 'sgd', lr: 1e-3, hidden: 32, epochs: 5 });
    expect(history[1].params).toEqual({ optimizer: 'sgd', lr: 1e-3, hidden: 128, epochs: 5 });
    expect(grid.suggest(history)).toBeNull();
  });

  it('skips points already in the history, whatever their trial ids (a resumed study)', () => {
    const grid = new GridStrategy(space);
    const taken = [grid.point(0), grid.point(1), grid.point(5)].map((params, i) => ({ id: 10 + i, params, status: 'failed' as const, objective: null }));
    expect(grid.suggest(taken)).toEqual(grid.point(2));
  });

  it('rounds and de-duplicates integer grids and keeps the bounds of count grids exact', () => {
    const grid = new GridStrategy({ depth: int(1, 3, { grid: 5 }), dropoutRatio: uniform(0, 0.6, { grid: 4 }) });
    const history = runStrategy(grid, 100);
    expect([...new Set(history.map((t) => t.params.depth))]).toEqual([1, 2, 3]);
    const ratios = [...new Set(history.map((t) => t.params.dropoutRatio))] as number[];
    expect(ratios[0]).toBe(0);
    expect(ratios[3]).toBe(0.6);
    expect(ratios[1]).toBeCloseTo(0.2, 12);
  });

  it('requires a grid for numeric ranges, naming the parameter, before anything runs', () => {
    const config = { space: { lr: { loguniform: [1e-3, 0.1] }, l2: { loguniform: [1e-6, 1e-2], grid: 2 } }, objective: { metric: 'loss' }, strategy: 'grid' };
    expect(() => parseStudyConfig(config)).toThrow(RegraftError);
    expect(() => parseStudyConfig(config)).toThrow(/parameter 'lr': grid search needs a grid/);
  });

  it('defaults the trial count of a grid study to the grid size', () => {
    const config = parseStudyConfig({ space: { lr: { uniform: [0, 1], grid: 3 }, batchSize: { categorical: [32, 64] } }, objective: { metric: 'loss' }, strategy: 'grid' });
    expect(config.trials).toBe(6);
  });
});

describe('random strategy', () => {
  const space: SearchSpace = {
    lr: loguniform(1e-4, 1),
    momentum: uniform(0, 0.9),
    hidden: int(16, 256, { log: true }),
    epochs: int(2, 10, { step: 2 }),
    optimizer: categorical(['sgd', 'momentum', 'adam']),
  };

  it('repeats exactly for a seed and differs between seeds', () => {
    const a = runStrategy(new RandomStrategy(space, 3), 20).map((t) => t.params);
    const b = runStrategy(new RandomStrategy(space, 3), 20).map((t) => t.params);
    const c = runStrategy(new RandomStrategy(space, 4), 20).map((t) => t.params);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('gives trial N the same parameters whatever came before it (parallel and resumed studies)', () => {
    const strategy = new RandomStrategy(space, 3);
    expect(strategy.suggest([], 7)).toEqual(runStrategy(new RandomStrategy(space, 3), 7)[6].params);
  });

  it('stays inside the space: log ranges, integer steps, choices', () => {
    const history = runStrategy(new RandomStrategy(space, 11), 300);
    for (const { params: p } of history) {
      expect(p.lr).toBeGreaterThanOrEqual(1e-4);
      expect(p.lr).toBeLessThanOrEqual(1);
      expect(Number.isInteger(p.hidden) && (p.hidden as number) >= 16 && (p.hidden as number) <= 256).toBe(true);
      expect([2, 4, 6, 8, 10]).toContain(p.epochs);
      expect(['sgd', 'momentum', 'adam']).toContain(p.optimizer);
    }
    // Log-uniform: about as many draws below 1e-2 as above it (the log midpoint of [1e-4, 1]).
    const below = history.filter((t) => (t.params.lr as number) < 1e-2).length;
    expect(below).toBeGreaterThan(110);
    expect(below).toBeLessThan(190);
    // Both end points of a stepped int are reachable.
    expect(history.some((t) => t.params.epochs === 2) && history.some((t) => t.params.epochs === 10)).toBe(true);
  });
});

describe('TPE strategy', () => {
  // A smooth bowl over log10(lr) and log10(l2), optimum at lr = 10^-1.5, l2 = 10^-4, well inside the box.
  const space: SearchSpace = { lr: loguniform(1e-4, 1), l2: loguniform(1e-7, 1e-1) };
  const bowl = (p: Params) => (Math.log10(p.lr as number) + 1.5) ** 2 + 0.5 * (Math.log10(p.l2 as number) + 4) ** 2;

  function trialsToReach(strategy: Strategy, threshold: number, cap: number): number {
    const history: HistoryTrial[] = [];
    for (let id = 1; id <= cap; id++) {
      const params = strategy.suggest(history, id) as Params;
      const objective = bowl(params);
      history.push({ id, params, status: 'complete', objective });
      if (objective < threshold) return id;
    }
    return cap + 1;
  }

  it('reaches a good region in fewer trials than random search, on average over seeds', () => {
    const seeds = Array.from({ length: 12 }, (_, i) => i);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const tpe = mean(seeds.map((s) => trialsToReach(new TpeStrategy(space, s, 'min', defaultTpeSettings(100)), 0.05, 300)));
    const random = mean(seeds.map((s) => trialsToReach(new RandomStrategy(space, s), 0.05, 300)));
    expect(tpe).toBeLessThan(0.7 * random);
  });

  it('maximises as well as it minimises', () => {
    const strategy = new TpeStrategy(space, 5, 'max', defaultTpeSettings(60));
    const history = runStrategy(strategy, 60, (p) => -bowl(p));
    const bestLate = Math.max(...history.slice(40).map((t) => t.objective as number));
    const bestStartup = Math.max(...history.slice(0, 10).map((t) => t.objective as number));
    expect(bestLate).toBeGreaterThan(bestStartup);
  });

  it('is reproducible: the same seed and history give the same suggestion', () => {
    const a = runStrategy(new TpeStrategy(space, 9, 'min', defaultTpeSettings(30)), 30, bowl);
    const b = runStrategy(new TpeStrategy(space, 9, 'min', defaultTpeSettings(30)), 30, bowl);
    expect(a).toEqual(b);
  });

  it('starts with the random draws and learns categorical preferences', () => {
    const catSpace: SearchSpace = { optimizer: categorical(['sgd', 'adam', 'momentum']), hidden: int(16, 256, { log: true }) };
    const settings = defaultTpeSettings(40, { startupTrials: 6 });
    const tpe = runStrategy(new TpeStrategy(catSpace, 2, 'max', settings), 40, (p) => (p.optimizer === 'adam' ? 1 : 0) + (p.hidden as number) / 1000);
    const random = runStrategy(new RandomStrategy(catSpace, 2), 6);
    expect(tpe.slice(0, 6).map((t) => t.params)).toEqual(random.map((t) => t.params));
    const adamLate = tpe.slice(20).filter((t) => t.params.optimizer === 'adam').length;
    expect(adamLate).toBeGreaterThan(12);
    for (const t of tpe) expect(Number.isInteger(t.params.hidden)).toBe(true);
  });

  it('ignores failed trials and ranks pruned ones below complete ones', () => {
    const strategy = createStrategy(parseStudyConfig({ space: { x: { uniform: [0, 1] } }, objective: { metric: 'm', mode: 'max' }, strategy: { tpe: { startupTrials: 2 } }, trials: 10 }));
    const history: HistoryTrial[] = [
      { id: 1, params: { x: 0.1 }, status: 'complete', objective: 0.5 },
      { id: 2, params: { x: 0.9 }, status: 'pruned', objective: 0.99 },
      { id: 3, params: { x: 0.5 }, status: 'failed', objective: null },
      { id: 4, params: { x: 0.2 }, status: 'complete', objective: 0.6 },
    ];
    // Good group = the top quarter = trial 4 alone (x = 0.2): TPE's pick lands near it, not near the pruned 0.9.
    const x = strategy.suggest(history, 5)?.x as number;
    expect(Math.abs(x - 0.2)).toBeLessThan(0.25);
  });
});
