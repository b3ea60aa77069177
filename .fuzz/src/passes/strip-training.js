/**
 * strip-training: turns a training graph (regraft's compiled step, or a PyTorch export made with
 * training=TrainingMode.TRAINING) into an inference model.
 *
 *   Before:  x -> Gemm -> Dropout(ratio, training_mode=true) -> Gemm -> logits -> CrossEntropy(labels) -> loss
 *            x -> Conv -> BatchNormalization(training_mode=1) -> (Y, running_mean, running_var)
 *   After:   x -> Gemm -> Gemm -> logits                   x -> Conv -> BatchNormalization -> Y
 *
 * Steps:
 * 1. Outputs. Kept: `keepOutputs` when given, else every graph output that is not training-only. Training-only
 *    by name: `loss`, `loss_data`, `penalty_l1`, `penalty_l2`, and names ending in `_grad`, `.updated`, `_updated`
 *    or `_new` (gradients, updated parameters and optimizer state); by producer: a BatchNormalization's running
 *    statistics (outputs 1..) and a Dropout's mask. The other outputs are removed and dead-node removal takes the
 *    loss, penalty, gradient and optimizer nodes with them.
 * 2. Dropout of every opset goes: readers of its output read its input. A mask still read (or kept as an output)
 *    becomes the all-true mask an inference-mode Dropout yields (`ConstantOfShape(Shape(x))`, see allTrueMask below).
 * 3. BatchNormalization to inference mode: `training_mode` (opset 14+) is removed (default 0); `is_test` (opset 6 and
 *    before) set to 1; the running-statistics outputs (Y, mean, var, saved_mean, saved_var in opsets 7-13; Y,
 *    running_mean, running_var in 14+) are dropped. Inference then normalizes with the stored running mean and
 *    variance: Y = scale * (X - mean) / sqrt(var + epsilon) + B.
 * 4. Graph inputs that only removed nodes read (`labels`, `lr`) are removed; so are initializers nothing reads any
 *    more (the shared `training_mode` switch among them).
 * 5. Parameters that are graph inputs with an initializer default go back to plain initializers (IR version 4 and
 *    later only: before IR 4 every initializer must also be a graph input).
 */
import { RegraftError } from '../errors.js';
import { boolTensor, DataType, dtypeName, floatTensor, GraphBuilder, tensorType } from '../ir/index.js';
import { GRAD_SUFFIX, LOSS_DATA_NAME, LOSS_NAME, PENALTY_L1_NAME, PENALTY_L2_NAME, UPDATED_SUFFIX } from '../training-interface.js';
import { demoteInputToInitializer, keepFirstOutputOnly, replaceValue } from './rewire.js';
const TRAINING_ONLY_NAMES = new Set([LOSS_NAME, LOSS_DATA_NAME, PENALTY_L1_NAME, PENALTY_L2_NAME]);
/** Names hand-written steps and other tools give updated parameters (`fc1.weight.updated`, `w_new`); regraft writes `_updated`. */
const FOREIGN_UPDATED_SUFFIXES = ['.updated', '_new'];
const TRAINING_ONLY_SUFFIXES = [GRAD_SUFFIX, UPDATED_SUFFIX, ...FOREIGN_UPDATED_SUFFIXES];
/** The rule for step 1: whether a graph output exists only for training. */
export function isTrainingOnlyOutput(v) {
    if (TRAINING_ONLY_NAMES.has(v.name) || TRAINING_ONLY_SUFFIXES.some((s) => v.name.endsWith(s)))
        return true;
    const p = v.producer;
    if (p?.opType === 'BatchNormalization' && v.producerIndex > 0)
        return true;
    return p?.opType === 'Dropout' && v.producerIndex === 1;
}
export function stripTraining(model, opts = {}) {
    const graph = model.graph;
    const readBefore = new Set(graph.inputs.filter((v) => v.uses.length > 0 || v.implicitUses.size > 0));
    const removedOutputs = removeTrainingOutputs(graph, opts.keepOutputs);
    let modified = graph.cleanup().removedNodes > 0 || removedOutputs.length > 0;
    const dropouts = graph.nodes.filter((n) => n.opType === 'Dropout' && n.domain === '');
    dropouts.forEach(removeDropout);
    let batchNormsToInference = 0;
    for (const node of graph.nodes.filter((n) => n.opType === 'BatchNormalization' && n.domain === '')) {
        if (toInferenceMode(node))
            batchNormsToInference++;
    }
    modified ||= graph.cleanup().removedNodes + dropouts.length + batchNormsToInference > 0;
    const removedInputs = [];
    for (const v of [...graph.inputs]) {
        if (!readBefore.has(v) || v.uses.length > 0 || v.implicitUses.size > 0 || v.isGraphOutput)
            continue;
        removedInputs.push(v.name);
        graph.removeInput(v);
        if (v.isInitializer)
            graph.removeInitializer(v);
    }
    const foldedParameters = [];
    if (model.irVersion >= 4) {
        for (const v of [...graph.inputs]) {
            if (!v.isInitializer || v.isGraphOutput)
                continue;
            foldedParameters.push(v.name);
            demoteInputToInitializer(v);
        }
    }
    modified ||= graph.cleanup().removedInitializers > 0 || removedInputs.length + foldedParameters.length > 0;
    graph.toposort();
    return { model, modified, removedOutputs, removedInputs, foldedParameters, removedDropouts: dropouts.length, batchNormsToInference };
}
function removeTrainingOutputs(graph, keepOutputs) {
    const names = graph.outputs.map((v) => v.name);
    let drop;
    if (keepOutputs) {
        const unknown = keepOutputs.filter((n) => !names.includes(n));
        if (unknown.length > 0) {
            throw new RegraftError(`strip-training: keep-outputs names ${unknown.join(', ')}, which ${unknown.length > 1 ? 'are not graph outputs' : 'is not a graph output'}; graph outputs: ${names.join(', ')}`);
        }
        drop = graph.outputs.filter((v) => !keepOutputs.includes(v.name));
    }
    else {
        drop = graph.outputs.filter(isTrainingOnlyOutput);
        if (drop.length === graph.outputs.length) {
            throw new RegraftError(`strip-training: every graph output looks training-only (${names.join(', ')}); name the inference outputs with --keep-outputs`);
        }
    }
    const dropped = [...new Set(drop)];
    dropped.forEach((v) => graph.removeOutput(v));
    return dropped.map((v) => v.name);
}
/** Readers of the output read the input instead; a mask still in use becomes all-true. The node is left dead. */
function removeDropout(node) {
    const data = node.input(0);
    if (!data)
        throw new RegraftError(`${node.describe()} has no data input; the model is malformed`);
    const mask = node.outputs[1];
    if (mask?.isRead) {
        const opset = node.graph.opset('') ?? 0;
        // Dropout-7 (opsets 7-9) gives its mask the data's type; from Dropout-10 on the mask is bool.
        const maskType = opset >= 10 ? DataType.BOOL : (data.elemType ?? DataType.FLOAT);
        replaceValue(mask, allTrueMask(data, maskType, node.describe()));
    }
    const out = node.outputs[0];
    if (out)
        replaceValue(out, data);
}
/**
 * The mask an inference-mode Dropout outputs: all true (all ones for Dropout-7, whose mask has the data's type),
 * with the data's shape, as `ConstantOfShape(Shape(x), value=1)`. Exact for every x, unlike `Equal(x, x)`, which is
 * false wherever x is NaN. Needs ConstantOfShape (opset 9).
 */
function allTrueMask(x, maskElemType, where) {
    const graph = x.graph;
    const b = new GraphBuilder(graph);
    b.namePrefix = 'strip/';
    const opset = b.requireStandardOpset();
    if (opset < 9)
        throw new RegraftError(`${where}: its mask is read, and an all-true mask needs ConstantOfShape (opset 9); model opset is ${opset}`);
    const one = maskElemType === DataType.BOOL ? boolTensor('', [true], [1]) : maskElemType === DataType.FLOAT ? floatTensor('', [1], [1]) : undefined;
    if (!one)
        throw new RegraftError(`${where}: cannot build an all-true mask of type ${dtypeName(maskElemType)}; only BOOL and FLOAT masks are supported`);
    const mask = b.op('ConstantOfShape', [b.op('Shape', [x])], { value: one });
    mask.type = tensorType(maskElemType, x.shape);
    return mask;
}
/** Switches one BatchNormalization to inference mode; true when it changed. */
function toInferenceMode(node) {
    let changed = false;
    if (node.attrs.int('training_mode', 0) !== 0) {
        node.attributes.delete('training_mode');
        changed = true;
    }
    // Up to opset 6, is_test defaults to 0, i.e. training mode.
    if ((node.graph.opset('') ?? 0) <= 6 && node.attrs.int('is_test', 0) === 0) {
        node.setAttribute('is_test', 1);
        changed = true;
    }
    if (node.outputs.length === 1)
        return changed;
    for (const v of node.outputs.slice(1)) {
        if (v?.isGraphOutput) {
            throw new RegraftError(`strip-training: '${v.name}' (running statistic of ${node.describe()}) is kept as an output; inference mode has no such output, leave it out of --keep-outputs`);
        }
        if (v && v.uses.length > 0) {
            throw new RegraftError(`strip-training: running statistic '${v.name}' of ${node.describe()} is still read by ${v.uses[0].node.describe()}; cannot switch it to inference mode`);
        }
    }
    keepFirstOutputOnly(node, node.attributes);
    return true;
}
export const stripTrainingPass = {
    name: 'strip-training',
    removesTrainingInterface: true,
    run: stripTraining,
};
