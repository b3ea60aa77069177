/*
 * Training needs batch statistics and running averages, inference the stored ones. Models exported for inference
 * (PyTorch eval mode) carry BatchNormalization in inference mode; toTrainingModeBatchNorm switches one node to the
 * opset-14/15 training form, whose extra outputs are the updated running mean and variance:
 *   running_mean' = momentum * mean + (1 - momentum) * batch_mean, likewise for the variance.
 * The compiler feeds them back into the `input_mean` / `input_var` initializers after each step, and must make BOTH
 * graph outputs: onnxruntime 1.30 was seen to compute a wrong Y for a training-mode node with constant parameters
 * and stored statistics 0/1 while either was left unfetched.
 */
import { OPSET_UPGRADE_HINT, RegraftError } from '../../errors.js';
import { makeAttribute } from '../../ir/attributes.js';
import type { Node } from '../../ir/node.js';
import type { Value } from '../../ir/value.js';
import { isTrainingMode } from './batchnorm.js';
import { rebuildWithOutputs } from './rebuild-node.js';

export interface TrainingModeBatchNorm {
  /** The node in training mode (a replacement of the original unless it already was). */
  node: Node;
  /** Updated running mean and variance, to be written back into these inputs. */
  runningMean: Value;
  runningVar: Value;
  /** The inputs they update (input 3 and input 4 of the node). */
  meanInput: Value;
  varInput: Value;
}

/** Puts a BatchNormalization node (opset 14 or later) in training mode, exposing its running-statistics outputs. */
export function toTrainingModeBatchNorm(node: Node): TrainingModeBatchNorm {
  if (node.opType !== 'BatchNormalization') throw new RegraftError(`toTrainingModeBatchNorm: ${node.describe()} is not a BatchNormalization`);
  const opset = node.graph.opset('') ?? 0;
  if (opset < 14) {
    throw new RegraftError(`${node.describe()}: training-mode BatchNormalization needs opset 14 or later (the model has ${opset}); ${OPSET_UPGRADE_HINT}`);
  }
  const meanInput = node.input(3);
  const varInput = node.input(4);
  if (!meanInput || !varInput) throw new RegraftError(`${node.describe()}: input_mean and input_var are missing`);
  let trained = node;
  if (!isTrainingMode(node, opset) || !node.outputs[1] || !node.outputs[2]) {
    const attributes = new Map(node.attributes);
    attributes.set('training_mode', makeAttribute('training_mode', 1));
    const base = node.output(0).name;
    trained = rebuildWithOutputs(node, attributes, [`${base}_running_mean`, `${base}_running_var`]);
  }
  return { node: trained, runningMean: trained.output(1), runningVar: trained.output(2), meanInput, varInput };
}
