/**
 * The benchmark's synthetic trial: three epochs of 150 ms of waiting each (no CPU), so that the distributed-tuning
 * benchmark measures coordination through the store, not how many cores this machine has.
 */
import type { Metrics, Params, TrialContext } from '../src/tune/types.js';

export async function runTrial(params: Params, ctx: TrialContext): Promise<Metrics> {
  const x = Number(params.x ?? 0.5);
  let score = 0;
  for (let epoch = 1; epoch <= 3; epoch++) {
    await new Promise((r) => setTimeout(r, 150));
    score = (1 - (x - 0.7) ** 2) * (1 - 0.5 ** epoch);
    if ((await ctx.report(epoch, { score })) === 'stop') break;
  }
  return { score };
}
