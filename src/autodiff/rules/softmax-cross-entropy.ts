/**
 * (L, log_prob) = SoftmaxCrossEntropyLoss(scores, labels, weights?) (opset 12/13): scores [N, C, *D], labels int
 * [N, *D], optional class weights [C]; per element i: p = softmax over C, w_i = weights[labels_i] (1 without
 * weights, 0 where labels_i == ignore_index), l_i = -w_i * log p[i, labels_i].
 *   reduction 'none': L = l;  'sum': L = sum_i l_i;  'mean': L = sum_i l_i / sum_i w_i.
 *
 *   dscores[i, c] = coef_i * (p[i, c] - onehot(labels_i)[c]),
 *     coef_i = dL_i * w_i ('none'),  dL * w_i ('sum'),  dL * w_i / sum_j w_j ('mean')
 * plus, when log_prob itself reaches the loss (log_prob = LogSoftmax over C):
 *   dscores += dlogp - p * sum_C(dlogp).
 * p is exp(log_prob) when the node has that output, otherwise Softmax over axis 1. Labels (and weights) get none.
 */
import { OPSET_UPGRADE_HINT, RegraftError } from '../../errors.js';
import { DataType } from '../../ir/dtype.js';
import type { Value } from '../../ir/value.js';
import type { GradContext, GradientRule } from '../types.js';
import { unsqueeze } from '../shapes.js';

export const softmaxCrossEntropyGrad: GradientRule = {
  opTypes: ['SoftmaxCrossEntropyLoss'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null, null, null];
    const { b } = ctx;
    const p = probabilities(ctx);
    let dScores: Value | null = null;
    const dLoss = ctx.dy(0);
    if (dLoss) {
      const labels = ctx.x(1);
      const ignore = ctx.attrs.has('ignore_index') ? b.int64Init('ignore_index', [ctx.attrs.int('ignore_index')], []) : undefined;
      const ignored = ignore ? b.op('Equal', [labels, ignore]) : undefined;
      // Ignored labels may lie outside [0, C) (-100 is common): replace them before Gather and OneHot; w_i = 0 there.
      const safeLabels = ignored ? b.op('Where', [ignored, b.int64Init('zero_label', [0], []), labels]) : labels;
      const weights = elementWeights(ctx, safeLabels, ignored);
      const coef = coefficient(ctx, dLoss, weights, labels);
      // The class count as a constant when it is static (a Shape+Slice pair per step otherwise).
      const classes = ctx.shape(ctx.x(0))?.[1];
      const depth = typeof classes === 'number' ? b.ints([classes], 'depth') : b.op('Slice', [ctx.shapeOf(ctx.x(0)), b.ints([1], 'starts'), b.ints([2], 'ends')]);
      const onehot = b.op('OneHot', [safeLabels, depth, b.floatInit('onehot_values', [0, 1], [2])], { axis: 1 });
      dScores = b.mul(b.sub(p, onehot), coef.perElement ? unsqueeze(ctx, coef.value, [1]) : coef.value);
    }
    const dLogProb = ctx.node.outputs[1] ? ctx.dy(1) : null;
    if (dLogProb) {
      const sumC = b.reduceSum(dLogProb, [1], true);
      const fromLogProb = b.sub(dLogProb, b.mul(p, sumC));
      dScores = dScores ? b.add(dScores, fromLogProb) : fromLogProb;
    }
    return [dScores, null, null];
  },
};

function probabilities(ctx: GradContext): Value {
  const logProb = ctx.node.outputs[1];
  if (logProb) return ctx.b.op('Exp', [logProb]);
  const rank = ctx.rank(ctx.x(0));
  // Softmax before opset 13 normalizes over all axes from `axis` on, which is axis 1 alone only for [N, C].
  if (ctx.opset < 13 && rank !== 2) {
    throw new RegraftError(`${ctx.node.describe()}: scores of rank ${rank ?? 'unknown'} need opset 13 or later for the gradient (Softmax over axis 1); ${OPSET_UPGRADE_HINT}`);
  }
  return ctx.b.op('Softmax', [ctx.x(0)], { axis: 1 });
}

/** w_i (class weight of the label, zero where ignored) as float [N, *D], or undefined when every w_i is 1. */
function elementWeights(ctx: GradContext, safeLabels: Value, ignored: Value | undefined): Value | undefined {
  const { b } = ctx;
  const classWeights = ctx.hasInput(2) ? b.op('Gather', [ctx.x(2), safeLabels], { axis: 0 }) : undefined;
  const kept = ignored ? b.op('Cast', [b.op('Not', [ignored])], { to: DataType.FLOAT }) : undefined;
  if (classWeights && kept) return b.mul(classWeights, kept);
  return classWeights ?? kept;
}

/** coef_i, and whether it varies per element ([N, *D]) or is one scalar. */
function coefficient(ctx: GradContext, dLoss: Value, weights: Value | undefined, labels: Value): { value: Value; perElement: boolean } {
  const { b } = ctx;
  const reduction = ctx.attrs.string('reduction', 'mean');
  if (reduction === 'none') return { value: weights ? b.mul(dLoss, weights) : dLoss, perElement: true };
  if (reduction !== 'sum' && reduction !== 'mean') {
    throw new RegraftError(`${ctx.node.describe()}: unknown reduction '${reduction}'; use none, sum or mean`);
  }
  let scale = dLoss;
  if (reduction === 'mean') {
    const total = weights ? b.reduceSum(weights, undefined, false) : b.elementCount(labels, ctx.shapeOf);
    scale = b.div(dLoss, total);
  }
  return weights ? { value: b.mul(scale, weights), perElement: true } : { value: scale, perElement: false };
}
