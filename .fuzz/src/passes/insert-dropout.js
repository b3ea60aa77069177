/**
 * insert-dropout: puts a Dropout on chosen values and makes every reader of such a value read the Dropout output.
 *
 *   Before:  x -> Gemm -> Relu -> h -> Gemm -> logits (output)
 *   After:   x -> Gemm -> Relu -> h -> Dropout(ratio, training_mode) -> h_dropout -> Gemm -> logits (output)
 *
 * Insertion points: the first output of every node whose op type is in `after` or whose name matches a glob in
 * `afterNode`, plus the values named in `afterTensor`. Skipped, and reported: values that are graph outputs (a
 * classifier's logits) unless `allowGraphOutputs`, values nothing reads, non-float values, and values already read
 * only by Dropout (so running the pass twice changes nothing).
 *
 * Math (inverted dropout, as ONNX defines it): in training, y = x * mask / (1 - ratio) with mask ~ Bernoulli(1 - ratio);
 * in inference, y = x.
 *
 * Opset-aware:
 * - opset 12 and later: Dropout-12/13/22 takes `ratio` and `training_mode` as inputs and an optional `seed`
 *   attribute. Every inserted Dropout reads one shared bool scalar initializer `training_mode`, false, so the
 *   rewritten model infers exactly as before; the training compiler flips that one initializer to true. (A graph
 *   input instead would force every inference user to feed it.)
 * - opset 7 to 11: Dropout-7/10 with a `ratio` attribute and no training switch: onnxruntime always runs it as
 *   identity, and `seed` does not exist (the pass reports that it was ignored).
 * - below 7: refused (Dropout-1/6 use the legacy `is_test` attribute); convert the model to a newer opset.
 *
 * onnxruntime caveat (measured with onnxruntime 1.30, the Node binding): with graph optimizations at 'basic' or
 * above, an inference session removes a Dropout whose mask nobody reads (its EliminateDropout rewrite), even when
 * training_mode is true. A training step must therefore read the mask (the backward pass does) or run its session
 * with graphOptimizationLevel 'disabled'.
 *
 * A graph output chosen with `allowGraphOutputs` keeps its name: the Dropout output takes the name and the
 * original value is renamed `<name>_before`, so consumers of the model see the same interface.
 */
import { RegraftError } from '../errors.js';
import { boolTensor, DataType, float, GraphBuilder, isFloatType, tensorType } from '../ir/index.js';
import { globToRegExp, matchesAnyGlob } from '../util/glob.js';
import { TRAINING_MODE_NAME } from '../training-interface.js';
import { replaceValue } from './rewire.js';
/**
 * Dropout's ratio when none is given: ONNX's default for the op, and so also the default of every regraft flag and
 * setting that inserts Dropout. Read wherever a ratio may be missing (the compiler, the gradient rule).
 */
export const DEFAULT_DROPOUT_RATIO = 0.5;
/** Why a ratio is unusable, or undefined when it is fine: the one range check of a drop probability (flags and train settings use it too). */
export function ratioProblem(ratio) {
    if (!Number.isFinite(ratio))
        return `must be a number in [0, 1), got ${ratio}`;
    if (ratio < 0 || ratio >= 1)
        return `must be in [0, 1) (a drop probability), got ${ratio}`;
    return undefined;
}
export function insertDropout(model, opts) {
    const graph = model.graph;
    const ratio = opts.ratio ?? DEFAULT_DROPOUT_RATIO;
    const problem = ratioProblem(ratio);
    if (problem)
        throw new RegraftError(`dropout ratio ${problem}`);
    if (opts.seed !== undefined && !Number.isSafeInteger(opts.seed))
        throw new RegraftError(`dropout seed must be an integer, got ${opts.seed}`);
    const opset = graph.opset('');
    if (opset === undefined)
        throw new RegraftError(`model imports no ai.onnx opset; cannot add Dropout to graph '${graph.name}'`);
    if (opset < 7) {
        throw new RegraftError(`model uses ai.onnx opset ${opset}; Dropout insertion needs opset 7 or later, convert the model to a newer opset first`);
    }
    const form = opset >= 12 ? 'Dropout-12' : 'Dropout-7';
    const warnings = opts.seed !== undefined && form === 'Dropout-7' ? [`seed ${opts.seed} ignored: Dropout below opset 12 has no seed (model opset ${opset})`] : [];
    const chosen = chooseValues(model, opts);
    const skipped = [];
    const targets = chosen.filter((v) => {
        const reason = skipReason(v, opts.allowGraphOutputs ?? false);
        if (reason)
            skipped.push({ value: v.name, reason });
        return reason === undefined;
    });
    const b = new GraphBuilder(graph);
    b.namePrefix = 'dropout/';
    const inserted = [];
    if (targets.length > 0) {
        const ratioInput = form === 'Dropout-12' ? b.scalar(ratio, 'dropout_ratio') : undefined;
        const trainingMode = form === 'Dropout-12' ? trainingModeSwitch(model) : undefined;
        for (const v of targets) {
            const after = v.producer ? v.producer.describe() : v.isGraphInput ? 'graph input' : 'initializer';
            const originalName = v.name;
            const attrs = form === 'Dropout-12' ? { seed: opts.seed } : { ratio: float(ratio) };
            const inputs = form === 'Dropout-12' ? [v, ratioInput, trainingMode] : [v];
            const node = b.node('Dropout', inputs, attrs, { name: originalName, outputs: [graph.uniqueValueName(`${originalName}_dropout`)] });
            const out = node.output(0);
            out.type = v.type;
            replaceValue(v, out, node);
            inserted.push({ node: node.name, input: v.name, output: out.name, after });
        }
        graph.toposort();
    }
    return { model, modified: inserted.length > 0, inserted, skipped, warnings, form };
}
/** The values the options select, each once, in graph order; an error when nothing at all matches. */
function chooseValues(model, opts) {
    const graph = model.graph;
    const opTypes = new Set(opts.after ?? []);
    const nodeGlobs = (opts.afterNode ?? []).map(globToRegExp);
    if (opTypes.size === 0 && nodeGlobs.length === 0 && (opts.afterTensor ?? []).length === 0) {
        throw new RegraftError('insert-dropout: say where to insert Dropout: give op types (--after Relu), node globs (--after-node) or tensor names (--after-tensor)');
    }
    const chosen = new Set();
    const isChosenNode = (n) => (n.domain === '' && opTypes.has(n.opType)) || (nodeGlobs.length > 0 && matchesAnyGlob(n.name, nodeGlobs));
    for (const node of graph.nodes) {
        const out = node.outputs[0];
        if (out && isChosenNode(node))
            chosen.add(out);
    }
    for (const name of opts.afterTensor ?? []) {
        const v = graph.value(name);
        if (!v)
            throw new RegraftError(`insert-dropout: no value named '${name}' in graph '${graph.name}'; list values with 'regraft inspect'`);
        if (v.isGraphOutput && !opts.allowGraphOutputs) {
            throw new RegraftError(`insert-dropout: '${name}' is a graph output; Dropout there changes the model's outputs, pass --allow-outputs if that is intended`);
        }
        chosen.add(v);
    }
    if (chosen.size === 0) {
        const present = [...new Set(graph.nodes.map((n) => n.opType))].sort();
        const asked = [...opTypes, ...(opts.afterNode ?? [])].join(', ');
        throw new RegraftError(`insert-dropout: no node matches ${asked}; op types in this model: ${present.join(', ') || '(none)'}`);
    }
    const order = new Map();
    graph.inputs.forEach((v, i) => order.set(v, i - 1e9));
    graph.nodes.forEach((n, i) => n.outputs.forEach((v) => v && order.set(v, i)));
    return [...chosen].sort((a, b) => (order.get(a) ?? -2e9) - (order.get(b) ?? -2e9));
}
function skipReason(v, allowGraphOutputs) {
    if (v.isGraphOutput && !allowGraphOutputs)
        return 'graph output (pass --allow-outputs to include it)';
    if (v.uses.length === 0 && !v.isGraphOutput)
        return 'nothing reads it';
    if (v.uses.length > 0 && v.uses.every((u) => u.node.opType === 'Dropout' && u.index === 0) && !v.isGraphOutput)
        return 'already followed by Dropout';
    if (v.elemType !== undefined && !isFloatType(v.elemType))
        return `not a float tensor (Dropout needs float data)`;
    return undefined;
}
/** The shared `training_mode` bool scalar: reused when the model already has it, created (false) otherwise. */
function trainingModeSwitch(model) {
    const graph = model.graph;
    const existing = graph.value(TRAINING_MODE_NAME);
    if (existing) {
        const isBoolScalar = (existing.initializer?.dataType ?? existing.elemType) === DataType.BOOL;
        if (!isBoolScalar || existing.producer) {
            throw new RegraftError(`value '${TRAINING_MODE_NAME}' exists but is not a bool initializer or input; rename it so inserted Dropout can use the shared training switch`);
        }
        return existing;
    }
    const v = graph.addInitializer(boolTensor(TRAINING_MODE_NAME, [false], []), { exactName: true });
    v.type = tensorType(DataType.BOOL, []);
    return v;
}
export const insertDropoutPass = {
    name: 'insert-dropout',
    run: insertDropout,
};
