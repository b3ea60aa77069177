import { buildBackward } from '../autodiff/backward.js';
import { exposeDropoutMask, exposeMaxPoolIndices, toTrainingModeBatchNorm } from '../autodiff/forward-outputs.js';
import { RegraftError } from '../errors.js';
import { GraphBuilder } from '../ir/builder.js';
import { DataType } from '../ir/dtype.js';
import { assertValid } from '../ir/validate.js';
import { addPenalty } from '../passes/add-penalty.js';
import { decomposeRecurrent } from '../passes/decompose-rnn.js';
import { globToRegExp } from '../util/glob.js';
import { stripTraining } from '../passes/strip-training.js';
import { LOSS_NAME, LR_NAME, UPDATED_SUFFIX } from '../training-interface.js';
import { attachLoss } from './losses.js';
import { enableDropoutTraining } from './training-mode.js';
import { DEFAULT_OPTIMIZER, emitOptimizer } from './optimizers.js';
import { cloneModel } from '../ir/clone.js';
/**
 * Compiles a model into one training step made of standard ONNX ops: forward in training mode (Dropout on),
 * loss (+ L1/L2 penalties), backward pass, optimizer update. Inputs: the model's inputs, `labels`, `lr`, and every
 * parameter and optimizer state under its own name (kept as initializers too, so the file runs standalone on the
 * stored values). Outputs: `loss`, the updated parameters and state (`<name>_updated`), and `<param>_grad` on request.
 * The input model is not modified.
 */
export function compileTrainStep(source, opts) {
    const model = cloneModel(source);
    const graph = model.graph;
    const dataInputs = graph.inputs.filter((v) => !v.initializer).map((v) => v.name);
    const originalInitializers = new Set(graph.initializers);
    const originalOutputs = [...graph.outputs];
    // Recurrent ops have no gradient rule: unrolled over time, they train through their weights, which keep their names.
    const { decomposed } = decomposeRecurrent(model);
    enableDropoutTraining(model);
    const { loss, labels } = attachLoss(model, { kind: opts.loss, output: opts.output });
    graph.addOutput(loss);
    let penalized = [];
    if ((opts.l2 ?? 0) > 0 || (opts.l1 ?? 0) > 0) {
        penalized = addPenalty(model, { loss: loss.name, l2: opts.l2, l1: opts.l1, params: opts.penaltyParams }).penalized;
    }
    const total = graph.requireValue(LOSS_NAME);
    // Inference outputs are not step outputs: the step returns the loss and what changes.
    for (const out of originalOutputs)
        graph.removeOutput(out);
    const candidates = trainableCandidates(model, originalInitializers, opts.freeze ?? []);
    // Forward nodes whose backward needs more than they output by default: Dropout's mask, MaxPool's indices; and
    // BatchNormalization switched to batch statistics, its running statistics carried from step to step.
    for (const node of graph.nodes.filter((n) => n.opType === 'Dropout'))
        exposeDropoutMask(node);
    for (const node of graph.nodes.filter((n) => n.opType === 'MaxPool'))
        exposeMaxPoolIndices(node);
    const runningStats = [];
    for (const node of graph.nodes.filter((n) => n.opType === 'BatchNormalization')) {
        const bn = toTrainingModeBatchNorm(node);
        runningStats.push({ input: bn.meanInput, output: bn.runningMean }, { input: bn.varInput, output: bn.runningVar });
    }
    const backward = buildBackward(model, { loss: total, wrt: candidates });
    const params = candidates.filter((p) => backward.grads.has(p));
    const b = new GraphBuilder(graph);
    b.namePrefix = 'optimizer/';
    const optimizer = typeof opts.optimizer === 'object' ? opts.optimizer : { kind: opts.optimizer ?? DEFAULT_OPTIMIZER };
    let lr;
    if (optimizer.kind !== 'none') {
        if (graph.value(LR_NAME))
            throw new RegraftError(`the model already has a value named '${LR_NAME}'; rename it before compiling`);
        lr = graph.addInput(LR_NAME).setTensorType(DataType.FLOAT, []);
    }
    const { carried } = emitOptimizer(b, optimizer, new Map(params.map((p) => [p, backward.grads.get(p)])), lr ?? total);
    const gradients = {};
    if (opts.emitGradients) {
        for (const p of params) {
            const g = backward.grads.get(p);
            graph.addOutput(g);
            gradients[p.name] = g.name;
        }
    }
    for (const stat of runningStats) {
        // The statistic output itself becomes the step output (onnxruntime 1.30 computes a wrong training-mode
        // BatchNormalization unless both running statistics are graph outputs).
        stat.output.rename(graph.uniqueValueName(`${stat.input.name}${UPDATED_SUFFIX}`));
        carried.push(stat);
    }
    for (const c of carried) {
        graph.exposeAsInput(c.input);
        graph.addOutput(c.output);
        c.output.type = c.input.type;
    }
    // With optimizer 'none' parameters are not carried, yet they stay inputs: callers feed perturbed or trained values.
    for (const p of params)
        graph.exposeAsInput(p);
    for (const p of params)
        backward.grads.get(p).type = p.type;
    graph.cleanup({ removeUnusedInitializers: true });
    graph.toposort();
    assertValid(model);
    return {
        model,
        dataInputs,
        labels: labels.name,
        lr: lr?.name,
        loss: total.name,
        params: params.map((p) => p.name),
        carried: carried.map((c) => ({ input: c.input.name, output: c.output.name })),
        gradients,
        penalized,
        untrainable: backward.unused.map((v) => v.name),
        decomposed,
    };
}
/**
 * Eval model for validation: inference form (no Dropout, BatchNormalization on stored statistics) plus the data
 * loss (no penalties), reading `labels`. With `withLoss: false` it is the bare inference form, for callers that
 * compute metrics from the logits themselves.
 */
export function compileEvalModel(source, opts) {
    const model = cloneModel(source);
    stripTraining(model);
    const outputs = model.graph.outputs.map((v) => v.name);
    if (opts.withLoss === false) {
        assertValid(model);
        return { model, outputs };
    }
    const { loss, labels } = attachLoss(model, { kind: opts.loss, output: opts.output });
    model.graph.addOutput(loss);
    model.graph.toposort();
    assertValid(model);
    return { model, loss: loss.name, labels: labels.name, outputs };
}
/**
 * Float initializers of the user's model that the loss may depend on, minus frozen ones, scalars (constants such
 * as a Dropout ratio or a scale factor, not weights) and BatchNormalization running statistics (updated by the
 * forward pass, not by gradients).
 */
export function trainableCandidates(model, original, freeze) {
    const frozen = freeze.map(globToRegExp);
    const stats = new Set();
    for (const n of model.graph.nodes) {
        if (n.opType === 'BatchNormalization')
            for (const i of [3, 4])
                if (n.input(i))
                    stats.add(n.input(i));
    }
    return model.graph.initializers.filter((v) => original.has(v) &&
        v.initializer.dataType === DataType.FLOAT &&
        v.initializer.dims.length > 0 &&
        !stats.has(v) &&
        !frozen.some((re) => re.test(v.name)));
}
