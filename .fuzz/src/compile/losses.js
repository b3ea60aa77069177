import { OPSET_UPGRADE_HINT, RegraftError } from '../errors.js';
import { GraphBuilder } from '../ir/builder.js';
import { DataType } from '../ir/dtype.js';
import { LABELS_NAME, LOSS_NAME } from '../training-interface.js';
export const LOSS_KINDS = ['cross-entropy', 'mse', 'mse-half', 'bce-logits', 'l1'];
export const isRegressionLoss = (kind) => kind !== 'cross-entropy';
/**
 * Adds a loss on a model output, reading a new `labels` graph input. All losses reduce to a mean:
 * - cross-entropy: mean softmax cross-entropy of logits [N, C] against int64 class labels [N]
 *   (SoftmaxCrossEntropyLoss, opset 12+), PyTorch's `nn.CrossEntropyLoss()`;
 * - mse: mean((y - t)^2), PyTorch's `nn.MSELoss()`; mse-half: the article's (1/2) mean((y - t)^2);
 * - bce-logits: mean(softplus(y) - y t), PyTorch's `nn.BCEWithLogitsLoss()` (stable for large |y|);
 * - l1: mean(|y - t|), PyTorch's `nn.L1Loss()`.
 * Targets of the regression losses have the output's shape and are float.
 */
export function attachLoss(model, spec) {
    const graph = model.graph;
    const prediction = spec.output ? graph.requireValue(spec.output, 'model output') : graph.outputs[0];
    if (!prediction)
        throw new RegraftError(`model has no outputs to attach the ${spec.kind} loss to`);
    const labelsName = spec.labels ?? LABELS_NAME;
    if (graph.value(labelsName))
        throw new RegraftError(`the model already has a value named '${labelsName}'; choose another labels name`);
    const b = new GraphBuilder(graph);
    b.namePrefix = 'loss/';
    const lossName = spec.name ?? LOSS_NAME;
    const opset = graph.opset('') ?? 0;
    const batch = prediction.shape?.[0] ?? 'N';
    if (spec.kind === 'cross-entropy') {
        if (opset < 12)
            throw new RegraftError(`cross-entropy needs opset 12 or later (SoftmaxCrossEntropyLoss); the model imports opset ${opset}; ${OPSET_UPGRADE_HINT}`);
        const rank = prediction.shape?.length;
        if (rank !== undefined && rank < 2)
            throw new RegraftError(`cross-entropy reads logits [N, C], but output '${prediction.name}' has rank ${rank}`);
        const labels = graph.addInput(labelsName).setTensorType(DataType.INT64, [batch, ...(prediction.shape?.slice(2) ?? [])]);
        // The log_prob output is free (the kernel computes it anyway) and spares the backward pass a Softmax.
        const [loss] = b.ops('SoftmaxCrossEntropyLoss', [prediction, labels], { reduction: 'mean' }, [lossName, graph.uniqueValueName('log_prob')]);
        loss.setTensorType(DataType.FLOAT, []);
        return { loss, labels, prediction };
    }
    const labels = graph.addInput(labelsName).setTensorType(DataType.FLOAT, prediction.shape ?? undefined);
    let perElement;
    if (spec.kind === 'bce-logits') {
        perElement = b.sub(b.op('Softplus', [prediction]), b.mul(prediction, labels));
    }
    else {
        const diff = b.sub(prediction, labels);
        perElement = spec.kind === 'l1' ? b.op('Abs', [diff]) : b.mul(diff, diff);
    }
    let loss = reduceMeanAll(b, perElement, spec.kind === 'mse-half' ? undefined : lossName);
    if (spec.kind === 'mse-half')
        loss = b.op('Mul', [loss, b.scalar(0.5, 'half')], {}, { output: lossName });
    loss.setTensorType(DataType.FLOAT, []);
    return { loss, labels, prediction };
}
/** Mean over every element, to a scalar: ReduceSum then divide by the element count (works at any opset). */
function reduceMeanAll(b, x, output) {
    const sum = b.op('ReduceSum', [x], { keepdims: 0 });
    const count = b.op('Cast', [b.op('Size', [x])], { to: DataType.FLOAT });
    return b.op('Div', [sum, count], {}, { output });
}
