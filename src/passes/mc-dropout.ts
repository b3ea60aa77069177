/**
 * Monte-Carlo Dropout (Gal and Ghahramani, 2016): an inference model that keeps its Dropout nodes behind one bool
 * switch, so a caller can run the same input many times with Dropout active and read the spread of the outputs as
 * the model's uncertainty.
 *
 *   Before (stripped):  x -> Gemm -> Relu -> Gemm -> logits
 *   After:              x -> Gemm -> Relu -> Dropout(ratio, training_mode = mc_dropout) -> Gemm -> logits
 *                       mc_dropout: bool scalar graph input, initializer false
 *
 *                       (each Dropout's output read through Where(mask, y, y): see switchDropoutToMcInput)
 * With mc_dropout false (the default, fed nothing) Dropout is the identity, so the model answers bit for bit as the
 * plain export. Dropout's `seed` attributes go: a stored seed would make every Dropout node with the same seed
 * and input shape draw the same mask, and every new session replay the same passes.
 *
 * Only Dropout-12 and later (opset 12+) have a training_mode input; older models are refused.
 */
import { RegraftError } from '../errors.js';
import { boolTensor, DataType, floatTensor, GraphBuilder, tensorType, type Graph, type Node, type Value } from '../ir/index.js';
import { replaceValue } from './rewire.js';
import { DEFAULT_DROPOUT_RATIO } from './insert-dropout.js';
import { MC_DROPOUT_NAME } from '../training-interface.js';

/**
 * Replaces every Dropout by one whose training_mode is a new `mc_dropout` initializer (false) and whose output is
 * read through `Where(mask, y, y)`; returns the switch (the caller lists it as a graph input last).
 *
 * The Where is there for the runtimes: onnxruntime's EliminateDropout rewrite removes every Dropout (versions up to
 * 13) whose mask nothing reads, whatever its training_mode, so a Dropout read only through its output would vanish
 * in every optimized session and the switch would do nothing. Where(mask, y, y) is y, bit for bit, either way.
 */
export function switchDropoutToMcInput(graph: Graph, dropouts: readonly Node[]): Value {
  if (dropouts.length === 0) throw new RegraftError('--mc-dropout: the model has no Dropout to keep; train with --dropout-after (or insert it with regraft dropout) first');
  const opset = graph.opset('') ?? 0;
  if (opset < 12) throw new RegraftError(`--mc-dropout: Dropout below opset 12 has no training_mode input to switch (model opset ${opset}); convert the model to opset 12 or later`);
  if (graph.value(MC_DROPOUT_NAME)) throw new RegraftError(`--mc-dropout: the model already has a value named '${MC_DROPOUT_NAME}'; rename it first`);
  const mc = graph.addInitializer(boolTensor(MC_DROPOUT_NAME, [false], []), { exactName: true });
  mc.type = tensorType(DataType.BOOL, []);
  let defaultRatio: Value | undefined;
  for (const node of dropouts) {
    const data = node.input(0);
    if (!data) throw new RegraftError(`${node.describe()} has no data input; the model is malformed`);
    // training_mode is Dropout's third input: a missing ratio before it takes ONNX's default explicitly.
    const ratio = node.input(1) ?? (defaultRatio ??= graph.addInitializer(floatTensor('mc_dropout_default_ratio', [DEFAULT_DROPOUT_RATIO], [])));
    const b = new GraphBuilder(graph);
    b.namePrefix = 'mc_dropout/';
    b.insertBefore = node;
    // No seed attribute: a stored one makes Dropout nodes of one seed and shape draw the same masks.
    const [y, mask] = b.ops('Dropout', [data, ratio, mc], {}, 2, { name: node.name || 'Dropout' });
    y.type = node.outputs[0]?.type;
    mask.type = tensorType(DataType.BOOL, data.shape);
    const kept = b.op('Where', [mask, y, y], {}, { name: 'keep_mask_read' });
    kept.type = y.type;
    if (node.outputs[0]) replaceValue(node.outputs[0], kept);
    if (node.outputs[1]?.isRead) replaceValue(node.outputs[1], mask);
  }
  return mc;
}
