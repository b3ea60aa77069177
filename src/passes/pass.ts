import type { Model } from '../ir/index.js';

/** What every pass returns: the model (the same object, rewritten in place) and whether anything changed. */
export interface PassResult {
  model: Model;
  modified: boolean;
}

/**
 * A named model-to-model rewrite. Passes mutate the IR in place and return the same model. A pass never renames or
 * drops a graph input or output; the runner checks this after every pass. The only exception is a pass whose purpose
 * is exactly that (strip-training drops `labels`, `lr`, `loss`, ...): it declares `removesTrainingInterface`, and
 * may then only remove names, never add or rename any.
 */
export interface Pass<O = Record<string, never>, R extends PassResult = PassResult> {
  readonly name: string;
  readonly removesTrainingInterface?: boolean;
  run(model: Model, options: O): R;
}

/** A pass together with its options, as the runner takes it. */
export interface PassStep {
  readonly pass: Pass<never>;
  readonly options: unknown;
}

/** Binds options to a pass for `runPasses`: `step(insertDropoutPass, { after: ['Relu'] })`. */
export function step<O>(pass: Pass<O, PassResult>, options: O): PassStep {
  return { pass: pass as unknown as Pass<never>, options };
}
