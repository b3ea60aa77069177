/**
 * add-penalty: adds L2 and/or L1 weight penalties to a loss value (L1 + L2 together: elastic net).
 *
 *   Before:  ... -> CrossEntropy -> loss (output)
 *   After:   ... -> CrossEntropy -> loss_data --+
 *            W1, W2 -> ReduceSumSquare -> Sum -> Mul(l2 / 2) -> penalty_l2 --+-> Add -> loss (output)
 *            W1, W2 -> ReduceL1 -> Sum -> Mul(l1) -> penalty_l1 -------------+
 *
 * Math: penalty_l2 = (l2 / 2) * sum_w sum(w^2), penalty_l1 = l1 * sum_w sum(|w|), loss = loss_data + penalties.
 * d/dw of (l2 / 2) w^2 is l2 * w, so `--l2 LAM` gives the same gradient as PyTorch's `weight_decay=LAM` under SGD.
 * The lambda / (2m) form of textbook L2 regularization (m = training set size) is LAM = lambda / m.
 *
 * The loss value keeps its name: the old value is renamed `<loss>_data` and the total is emitted under the
 * original name, so a graph output `loss` stays `loss` and now includes the penalties.
 *
 * Parameters (see `penaltyParameters`): by default the float initializers that are weights of MatMul (whichever
 * input is an initializer), Gemm, Conv and ConvTranspose (input 1). Biases and normalization parameters only when
 * asked, by glob or with 'all'. Not idempotent: running it twice adds the penalty twice.
 */
import { RegraftError } from '../errors.js';
import { DataType, GraphBuilder } from '../ir/index.js';
import { globToRegExp } from '../util/glob.js';
import { DATA_LOSS_SUFFIX, PENALTY_L1_NAME, PENALTY_L2_NAME } from '../training-interface.js';
const WEIGHT_SLOTS = {
    MatMul: [0, 1],
    Gemm: [1],
    Conv: [1],
    ConvTranspose: [1],
};
const isFloatParameter = (v) => v.initializer?.dataType === DataType.FLOAT;
/** The parameters a selection picks, as initializer names in graph order. Pure: reads the model only. */
export function penaltyParameters(model, selection = 'default') {
    const graph = model.graph;
    const picked = new Set();
    const addDefaults = () => {
        for (const node of graph.nodes) {
            if (node.domain !== '')
                continue;
            for (const slot of WEIGHT_SLOTS[node.opType] ?? []) {
                const v = node.input(slot);
                if (v && isFloatParameter(v))
                    picked.add(v);
            }
        }
    };
    if (selection === 'default')
        addDefaults();
    else if (selection === 'all') {
        const statistics = runningStatistics(graph);
        for (const v of graph.initializers)
            if (isFloatParameter(v) && v.initializer.dims.length > 0 && !statistics.has(v))
                picked.add(v);
    }
    else {
        for (const pattern of selection) {
            if (pattern === 'default') {
                addDefaults();
                continue;
            }
            const re = globToRegExp(pattern);
            const hits = graph.initializers.filter((v) => isFloatParameter(v) && re.test(v.name));
            if (hits.length === 0) {
                const names = graph.initializers.filter(isFloatParameter).map((v) => v.name);
                const shown = names.slice(0, 8).join(', ') + (names.length > 8 ? `, ... (${names.length} in all)` : '');
                throw new RegraftError(`penalty parameters: '${pattern}' matches no float initializer; candidates: ${shown || '(none)'}`);
            }
            hits.forEach((v) => picked.add(v));
        }
    }
    return graph.initializers.filter((v) => picked.has(v)).map((v) => v.name);
}
function runningStatistics(graph) {
    const stats = new Set();
    for (const n of graph.nodes) {
        if (n.opType !== 'BatchNormalization')
            continue;
        for (const slot of [3, 4]) {
            const v = n.input(slot);
            if (v)
                stats.add(v);
        }
    }
    return stats;
}
function checkCoefficient(name, lam) {
    if (lam === undefined)
        return 0;
    if (!Number.isFinite(lam) || lam < 0)
        throw new RegraftError(`${name} coefficient must be a finite number >= 0, got ${lam}`);
    return lam;
}
export function addPenalty(model, opts) {
    const graph = model.graph;
    const l2 = checkCoefficient('L2', opts.l2);
    const l1 = checkCoefficient('L1', opts.l1);
    if (opts.l2 === undefined && opts.l1 === undefined)
        throw new RegraftError('add-penalty: give an L2 and/or L1 coefficient (l2, l1)');
    const loss = requireLoss(graph, opts.loss);
    const params = penaltyParameters(model, opts.params ?? 'default');
    if (params.length === 0) {
        throw new RegraftError(`add-penalty: no parameters to penalize in graph '${graph.name}' (no float weight of MatMul/Gemm/Conv/ConvTranspose); select them with params: 'all' or globs`);
    }
    if (l2 === 0 && l1 === 0)
        return { model, modified: false, penalized: [], penalties: {} };
    const weights = params.map((name) => graph.requireValue(name, 'parameter'));
    const b = new GraphBuilder(graph);
    b.namePrefix = 'penalty/';
    const terms = [];
    const penalties = {};
    if (l2 > 0) {
        // ReduceSumSquare rather than ReduceSum(Mul(w, w)): its gradient is one Mul per weight, not two and an Expand.
        const sums = weights.map((w) => b.op('ReduceSumSquare', [w], { keepdims: 0 }));
        const v = b.op('Mul', [sumAll(b, sums), b.scalar(l2 / 2, 'l2_half')], {}, { output: graph.uniqueValueName(PENALTY_L2_NAME) });
        terms.push(v.setTensorType(DataType.FLOAT, []));
        penalties.l2 = v.name;
    }
    if (l1 > 0) {
        const sums = weights.map((w) => b.op('ReduceL1', [w], { keepdims: 0 }));
        const v = b.op('Mul', [sumAll(b, sums), b.scalar(l1, 'l1')], {}, { output: graph.uniqueValueName(PENALTY_L1_NAME) });
        terms.push(v.setTensorType(DataType.FLOAT, []));
        penalties.l1 = v.name;
    }
    let total = b.add(loss, terms[0]);
    if (terms[1])
        total = b.add(total, terms[1]);
    total.type = loss.type;
    // The total takes over the loss's name, readers and graph output slots; the loss before penalties is renamed.
    const readers = loss.uses.filter((u) => !b.created.includes(u.node));
    const slots = graph.outputs.flatMap((v, i) => (v === loss ? [i] : []));
    const lossName = loss.name;
    loss.rename(graph.uniqueValueName(`${lossName}${DATA_LOSS_SUFFIX}`));
    total.rename(lossName);
    for (const { node, index } of readers)
        node.setInput(index, total);
    for (const i of slots)
        graph.setOutput(i, total);
    graph.toposort();
    return { model, modified: true, penalized: params, penalties, dataLoss: loss.name };
}
/** One value holding the sum of the scalars (a single Sum node rather than a chain of Adds). */
function sumAll(b, scalars) {
    return scalars.length === 1 ? scalars[0] : b.op('Sum', scalars);
}
function requireLoss(graph, name) {
    const v = graph.value(name);
    if (!v) {
        const candidates = graph.outputs.map((o) => o.name).join(', ') || '(none)';
        throw new RegraftError(`add-penalty: no value named '${name}' in graph '${graph.name}'; graph outputs: ${candidates}`);
    }
    if (v.elemType !== undefined && v.elemType !== DataType.FLOAT) {
        throw new RegraftError(`add-penalty: loss '${name}' is ${DataType[v.elemType]}, not FLOAT; penalties are float32 scalars`);
    }
    const shape = v.shape;
    if (shape && shape.some((d) => d !== 1)) {
        throw new RegraftError(`add-penalty: loss '${name}' has shape [${shape.join(', ')}]; the penalty is added to a scalar loss, reduce it first`);
    }
    if (!v.isGraphOutput && v.uses.length === 0) {
        throw new RegraftError(`add-penalty: loss '${name}' is neither a graph output nor read by any node; the penalized total would be dead`);
    }
    return v;
}
export const addPenaltyPass = {
    name: 'add-penalty',
    run: addPenalty,
};
