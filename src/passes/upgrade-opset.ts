/**
 * Opset upgrade of the default ONNX domain, so that models exported at old opsets (PyTorch's opset 6-9 exports, the
 * ONNX model zoo) can be compiled into a training step: training-mode BatchNormalization needs opset 14, Dropout's
 * training_mode input 12, SoftmaxCrossEntropyLoss 12, the MaxPool gradient of overlapping windows 16.
 *
 * Every op the model uses must be known to upgrade-opset-changes.ts: either its signature did not change in a way
 * that matters between the model's opset and the target, or each change on the way has an adapter. An op that is
 * neither is an error naming it: an unknown op is never silently restamped. This file checks the model, applies the
 * changes between its opset and the target in order, and restamps the opset and the IR version.
 */
import { RegraftError } from '../errors.js';
import { AttrType } from '../ir/attributes.js';
import { GraphBuilder } from '../ir/builder.js';
import type { Model } from '../ir/model.js';
import { inferShapes } from '../ir/shape/infer.js';
import type { Pass, PassResult } from './pass.js';
import { demoteInputToInitializer } from './rewire.js';
import { CHANGES, UNCHANGED, type AdapterContext } from './upgrade-opset-changes.js';

export const DEFAULT_TARGET_OPSET = 17;
/** Oldest and newest targets: adapters emit opset-13+ forms (axes as inputs, optional Resize roi). */
export const MIN_TARGET_OPSET = 13;
export const MAX_TARGET_OPSET = 21;
/** Opsets older than this are not read: PyTorch's oldest exports are opset 6. */
export const MIN_SOURCE_OPSET = 6;

export interface UpgradeOpsetResult {
  from: number;
  to: number;
  /** The model's IR version after the upgrade (raised to what the target opset needs, never lowered). */
  irVersion: number;
  /** One line per rewritten node: what changed. */
  rewritten: string[];
}

/**
 * Upgrades the model's default-domain opset to `target` in place. Refuses (naming the node) ops it has no knowledge
 * of, subgraphs, and the few old forms that have no equivalent (BatchNormalization spatial=0, a read Dropout mask
 * of opset < 10). A model already at `target` is left as it is.
 */
export function upgradeOpset(model: Model, target = DEFAULT_TARGET_OPSET): UpgradeOpsetResult {
  if (!Number.isInteger(target) || target < MIN_TARGET_OPSET || target > MAX_TARGET_OPSET) {
    throw new RegraftError(`opset upgrade: target ${target} is outside ${MIN_TARGET_OPSET}-${MAX_TARGET_OPSET}; choose one in that range (default ${DEFAULT_TARGET_OPSET})`);
  }
  const graph = model.graph;
  const from = graph.opset('');
  if (from === undefined) throw new RegraftError(`opset upgrade: the model imports no default-domain (ai.onnx) opset; there is nothing to upgrade`);
  if (from > target) throw new RegraftError(`opset upgrade: the model is at opset ${from}, newer than the target ${target}; regraft does not downgrade`);
  if (from < MIN_SOURCE_OPSET) throw new RegraftError(`opset upgrade: the model is at opset ${from}; regraft reads opset ${MIN_SOURCE_OPSET} and later`);

  const nodes = graph.nodes.filter((n) => n.domain === '' || n.domain === 'ai.onnx');
  for (const node of nodes) {
    if ([...node.attributes.values()].some((a) => a.type === AttrType.GRAPH || a.type === AttrType.GRAPHS)) {
      throw new RegraftError(`opset upgrade: ${node.describe()} has subgraphs, which regraft does not upgrade; convert the model with onnx.version_converter`);
    }
    if (!UNCHANGED.has(node.opType) && !(node.opType in CHANGES)) {
      throw new RegraftError(
        `opset upgrade: no upgrade rule for ${node.describe()} from opset ${from} to ${target}; convert the model with onnx.version_converter or re-export it at opset ${target}`,
      );
    }
  }
  inferShapes(graph);
  const b = new GraphBuilder(graph);
  b.namePrefix = 'upgrade/';
  const ctx: AdapterContext = { b, target, rank: (v) => v?.shape?.length };
  const rewritten: string[] = [];
  for (const original of nodes) {
    let node = original;
    // consumed_inputs (opset < 6 bookkeeping) means nothing to any later opset.
    node.attributes.delete('consumed_inputs');
    for (const change of CHANGES[node.opType] ?? []) {
      if (change.since <= from || change.since > target) continue;
      b.insertBefore = node;
      const did = change.adapt(node, ctx);
      if (did) rewritten.push(`${node.describe()}: ${did}`);
      // An adapter may rebuild the node (to drop outputs); later adapters work on the rebuilt one.
      node = node.output(0).producer ?? node;
    }
  }
  b.insertBefore = undefined;
  // IR < 4 had to list every initializer as a graph input; from IR 4 on that would make them inputs a caller may
  // override, which they never were meant to be.
  if (model.irVersion < 4) graph.inputs.filter((v) => v.initializer).forEach(demoteInputToInitializer);
  model.opsets.set('', target);
  const irVersion = Math.max(model.irVersion, irVersionFor(target));
  model.proto.irVersion = BigInt(irVersion);
  graph.cleanup();
  graph.toposort();
  return { from, to: target, irVersion, rewritten };
}

/** The IR version that introduced an opset (onnx/helper.py's table). */
function irVersionFor(opset: number): number {
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

/**
 * The upgrade as a pass. Runnable through runPasses only for IR version 4 and later: below that it takes the
 * initializers off the graph input list, which the runner's interface check refuses (`regraft convert` therefore
 * calls upgradeOpset itself).
 */
export const upgradeOpsetPass: Pass<{ target?: number }, PassResult & UpgradeOpsetResult> = {
  name: 'upgrade-opset',
  run(model, options) {
    const irBefore = model.irVersion;
    const report = upgradeOpset(model, options.target);
    return { model, modified: report.from !== report.to || report.rewritten.length > 0 || report.irVersion !== irBefore, ...report };
  },
};
