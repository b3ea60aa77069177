/** Builds the strategy a study config names. */
import { GridStrategy } from './grid.js';
import { RandomStrategy } from './random.js';
import type { Strategy, StrategySetup } from './strategy.js';
import { TpeStrategy, defaultTpeSettings } from './tpe.js';

export function createStrategy(config: StrategySetup): Strategy {
  const s = config.strategy;
  switch (s.name) {
    case 'grid':
      return new GridStrategy(config.space);
    case 'random':
      return new RandomStrategy(config.space, config.seed);
    case 'tpe':
      return new TpeStrategy(config.space, config.seed, config.objective.mode, defaultTpeSettings(config.trials, s));
  }
}
