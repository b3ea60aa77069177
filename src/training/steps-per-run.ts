/**
 * How many optimizer steps one onnxruntime run holds (compile/scan-steps.ts). Small models gain most: their step
 * is short, so the fixed cost of a run (every parameter and optimizer state handed to JavaScript and back, a
 * tensor object per value) is a large share of it. A big model's step is long enough that this share is small,
 * while Scan keeps a second copy of the carried state: by default such a model runs one step per run.
 */
import type { TrainStep } from '../compile/compile.js';
import { canScanSteps } from '../compile/scan-steps.js';
import type { Model } from '../ir/model.js';
import type { Tensor } from '../runtime/onnxruntime.js';

export const DEFAULT_STEPS_PER_RUN = 8;
/** Carried state (parameters, optimizer state, statistics) up to which the default is DEFAULT_STEPS_PER_RUN. */
export const SCAN_STATE_LIMIT_MIB = 64;

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
