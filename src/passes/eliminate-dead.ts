/**
 * eliminate-dead: removes nodes no graph output depends on, then initializers nothing reads.
 *
 *   Before:  x -> Relu -> y (output)      x -> Dropout -> (mask, unread)
 *   After:   x -> Relu -> y (output)
 *
 * Applies after any rewrite that disconnects nodes; every pipeline run by `runPasses` ends with it. Graph inputs
 * are never removed here (that is strip-training's business), nor values that If/Loop/Scan bodies read by name.
 */
import type { Model } from '../ir/index.js';
import type { Pass, PassResult } from './pass.js';

export interface EliminateDeadResult extends PassResult {
  removedNodes: number;
  removedInitializers: number;
}

export function eliminateDead(model: Model): EliminateDeadResult {
  const { removedNodes, removedInitializers } = model.graph.cleanup();
  return { model, modified: removedNodes + removedInitializers > 0, removedNodes, removedInitializers };
}

export const eliminateDeadPass: Pass<Record<string, never>, EliminateDeadResult> = {
  name: 'eliminate-dead',
  run: (model) => eliminateDead(model),
};
