/**
 * Puts a forward graph's Dropout nodes in training mode for the step compiler.
 *
 *   Before:  h -> Dropout(h, dropout_ratio, training_mode=false) -> h_dropout     (as insert-dropout writes it)
 *   After:   h -> Dropout(h, dropout_ratio, training_mode=true)  -> h_dropout
 *
 * Dropout-12+ reads its mode as input 2. insert-dropout gives every Dropout it inserts one shared bool initializer
 * `training_mode` (false): that one initializer is flipped to true, as insert-dropout's header promises. Every other
 * Dropout (one a PyTorch export brought, with its own switch or none) is pointed at it too, and a Dropout without a
 * ratio input gets ONNX's default ratio written out. The switch is not flipped but made anew (a true bool scalar
 * of its own) when the model's `training_mode` is anything else: a graph input, or read by something other than a
 * Dropout's mode input, whose result the flip would change. Older Dropouts have no training mode in onnxruntime
 * (always identity), so they are refused.
 */
import { OPSET_UPGRADE_HINT, RegraftError } from '../errors.js';
import { GraphBuilder } from '../ir/builder.js';
import { DataType } from '../ir/dtype.js';
import { boolTensor } from '../ir/tensor.js';
import { DEFAULT_DROPOUT_RATIO } from '../passes/insert-dropout.js';
import { TRAINING_MODE_NAME } from '../training-interface.js';
export function enableDropoutTraining(model) {
    const graph = model.graph;
    const dropouts = graph.nodes.filter((n) => n.opType === 'Dropout');
    if (dropouts.length === 0)
        return;
    const opset = graph.opset('') ?? 0;
    if (opset < 12) {
        throw new RegraftError(`${dropouts[0].describe()}: Dropout below opset 12 has no training mode in onnxruntime; ${OPSET_UPGRADE_HINT}`);
    }
    const on = trainingSwitchOn(model);
    const b = new GraphBuilder(graph);
    for (const node of dropouts) {
        if (!node.input(1))
            node.setInput(1, b.scalar(DEFAULT_DROPOUT_RATIO, 'dropout_ratio'));
        node.setInput(2, on);
    }
}
/** insert-dropout's shared switch set to true, or a new true switch when flipping that one would change more than Dropout. */
function trainingSwitchOn(model) {
    const graph = model.graph;
    const existing = graph.value(TRAINING_MODE_NAME);
    const flippable = existing?.initializer !== undefined &&
        existing.initializer.dataType === DataType.BOOL &&
        existing.initializer.dims.length === 0 &&
        !existing.isGraphInput &&
        !existing.isGraphOutput &&
        existing.implicitUses.size === 0 &&
        existing.uses.every((u) => u.node.opType === 'Dropout' && u.index === 2);
    if (flippable) {
        // A new tensor, not an edit of the old one: the compiler works on a copy whose tensors the source may share.
        existing.initializer = boolTensor(TRAINING_MODE_NAME, [true], []);
        return existing;
    }
    return graph.addInitializer(boolTensor(TRAINING_MODE_NAME, [true], [])).setTensorType(DataType.BOOL, []);
}
