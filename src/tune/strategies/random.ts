/** Random search: every parameter drawn independently and uniformly (log-uniformly for log parameters). */
import { sampleParam, type SearchSpace } from '../space.js';
import type { Params } from '../types.js';
import { STREAM, trialRng, type HistoryTrial, type Strategy } from './strategy.js';

export function sampleSpace(space: SearchSpace, seed: number, trialId: number): Params {
  const rng = trialRng(seed, trialId, STREAM.randomSearch);
  const params: Params = {};
  for (const [name, spec] of Object.entries(space)) params[name] = sampleParam(spec, rng);
  return params;
}

export class RandomStrategy implements Strategy {
  readonly name = 'random';

  constructor(private readonly space: SearchSpace, private readonly seed: number) {}

  suggest(_history: readonly HistoryTrial[], trialId: number): Params {
    return sampleSpace(this.space, this.seed, trialId);
  }
}
