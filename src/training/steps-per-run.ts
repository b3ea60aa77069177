/**
 * How many optimizer steps one onnxruntime run holds (compile/scan-steps.ts). Small models gain most: their step
 * is short, so the fixed cost of a run (every parameter and optimizer state handed to JavaScript and back, a
 * tensor object per value) is a large share of it. It is not small for a ResNet-18 either: the 128 MiB of its
 * parameters and Adam state come back as fresh JavaScript buffers after each run (zeroed, copied, page-faulted and
 * garbage-collected, all on one thread), so at batch 32 on a 2-core machine 8 steps per run trained 1.19x as fast as
 * 1 at one thread (149 vs 125 samples/s) and 1.36x at two (218 vs 160), for 1029 MiB of peak RSS against 755: Scan
 * keeps two more copies of the carried state, which is what the limit bounds. Above it a model runs one step per run.
 */
import type { TrainStep } from '../compile/compile.js';
import { canScanSteps } from '../compile/scan-steps.js';
import type { Model } from '../ir/model.js';
import type { Tensor } from '../runtime/onnxruntime.js';

export const DEFAULT_STEPS_PER_RUN = 8;
/** Carried state (parameters, optimizer state, statistics) up to which the default is DEFAULT_STEPS_PER_RUN. */
export const SCAN_STATE_LIMIT_MIB = 192;

/**
 * The steps per run of a training run: as asked (or the default), for a plain step without subgraphs; 1 for an
 * accumulating step (its micro-batches feed an update of their own) and for any step Scan cannot wrap.
 */
export function stepsPerRun(asked: number | undefined, step: TrainStep, stepModel: Model, carried: ReadonlyMap<string, Tensor>): number {
  if (step.update || step.lr === undefined || !canScanSteps(stepModel)) return 1;
  if (asked !== undefined) return asked;
  // Every carried value is float32 (compile/step-io.ts).
  let bytes = 0;
  for (const t of carried.values()) bytes += t.size * 4;
  return bytes <= SCAN_STATE_LIMIT_MIB * 2 ** 20 ? DEFAULT_STEPS_PER_RUN : 1;
}
