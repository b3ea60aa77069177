/*
 * Forward-graph rewrites the backward pass needs: optional outputs that some forward nodes must produce so their
 * gradients can read what the forward pass computed, instead of computing it again (or differently):
 *
 *   Dropout                 + mask                       the gradient reuses the mask the forward pass drew
 *   MaxPool                 + Indices                    the gradient scatters dY to the maxima the forward found
 *   BatchNormalization      training mode, + running     batch statistics in training, and the running averages
 *                           mean and variance            the compiler writes back after each step
 *
 * Each rewrite keeps the node's name, inputs and attributes (but the training_mode switch), and its first output
 * keeps its name, readers and graph-output slots. Each returns the node that now carries the outputs (the given
 * one if it already did). The compiler applies them before building the backward pass.
 */
import { OPSET_UPGRADE_HINT, RegraftError } from '../errors.js';
import { makeAttribute } from '../ir/attributes.js';
/** `node` rebuilt with `attributes` and extra outputs named (uniquely) after `extraOutputs`; its other former outputs must be unread. */
function withExtraOutputs(node, extraOutputs, attributes = node.attributes) {
    return node.graph.rebuildNode(node, { outputs: [node.output(0), ...extraOutputs], attributes });
}
/**
 * Gives a Dropout node a mask output (its second, optional output), so that the backward pass can reuse the mask
 * the forward pass drew instead of drawing another (Dropout's gradient is dy * mask / (1 - ratio)).
 *
 * Before:  x -> Dropout -> y                 After:  x -> Dropout -> y, y_mask
 */
export function exposeDropoutMask(node) {
    if (node.opType !== 'Dropout')
        throw new RegraftError(`exposeDropoutMask: ${node.describe()} is not a Dropout node`);
    if (node.outputs[1])
        return node;
    return withExtraOutputs(node, [`${node.output(0).name}_mask`]);
}
/**
 * Returns a MaxPool equivalent to `node` whose output 1 is Indices, so the backward pass reads where the maxima
 * were instead of pooling a second time.
 *
 * Before:  x -> MaxPool -> y                 After:  x -> MaxPool -> y, y_indices
 */
export function exposeMaxPoolIndices(node) {
    if (node.opType !== 'MaxPool')
        throw new RegraftError(`exposeMaxPoolIndices: ${node.describe()} is not a MaxPool`);
    if (node.outputs[1])
        return node;
    const opset = node.graph.opset('') ?? 0;
    if (opset < 8)
        throw new RegraftError(`${node.describe()}: MaxPool has an Indices output from opset 8, the model has opset ${opset}; ${OPSET_UPGRADE_HINT}`);
    return withExtraOutputs(node, [`${node.output(0).name}_indices`]);
}
/** Training mode: the training_mode attribute from opset 14; before it, the presence of the statistics outputs. */
export function isTrainingMode(node, opset) {
    if (opset >= 14)
        return node.attrs.int('training_mode', 0) === 1;
    return node.outputs.slice(1).some((o) => o !== null);
}
/**
 * Puts a BatchNormalization node (opset 14 or later) in training mode, exposing its running-statistics outputs.
 *
 * Training needs batch statistics and running averages, inference the stored ones. Models exported for inference
 * (PyTorch eval mode) carry BatchNormalization in inference mode; this switches one node to the opset-14/15
 * training form, whose extra outputs are the updated running mean and variance:
 *   running_mean' = momentum * mean + (1 - momentum) * batch_mean, likewise for the variance.
 * The compiler feeds them back into the `input_mean` / `input_var` initializers after each step, and must make BOTH
 * graph outputs: onnxruntime 1.30 was seen to compute a wrong Y for a training-mode node with constant parameters
 * and stored statistics 0/1 while either was left unfetched.
 *
 * Before:  x -> BatchNormalization -> y      After:  x -> BatchNormalization(training_mode=1) -> y, y_running_mean, y_running_var
 */
export function toTrainingModeBatchNorm(node) {
    if (node.opType !== 'BatchNormalization')
        throw new RegraftError(`toTrainingModeBatchNorm: ${node.describe()} is not a BatchNormalization`);
    const opset = node.graph.opset('') ?? 0;
    if (opset < 14) {
        throw new RegraftError(`${node.describe()}: training-mode BatchNormalization needs opset 14 or later (the model has ${opset}); ${OPSET_UPGRADE_HINT}`);
    }
    const meanInput = node.input(3);
    const varInput = node.input(4);
    if (!meanInput || !varInput)
        throw new RegraftError(`${node.describe()}: input_mean and input_var are missing`);
    let trained = node;
    if (!isTrainingMode(node, opset) || !node.outputs[1] || !node.outputs[2]) {
        const attributes = new Map(node.attributes);
        attributes.set('training_mode', makeAttribute('training_mode', 1));
        const base = node.output(0).name;
        trained = withExtraOutputs(node, [`${base}_running_mean`, `${base}_running_var`], attributes);
    }
    return { node: trained, runningMean: trained.output(1), runningVar: trained.output(2), meanInput, varInput };
}
