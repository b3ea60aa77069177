/*
 * Every gradient rule, in one explicit list grouped by op family: one family per file in rules/, named alike. An op
 * has exactly one rule; buildRuleMap refuses a second one, naming both families, so adding a rule can never
 * silently replace another. An op with no rule is an error when the backward pass reaches it (backward.ts).
 */
import { activationsGrad, preluGrad } from './rules/activations.js';
import { addSubGrad, divGrad, meanGrad, mulGrad, powGrad, sumGrad } from './rules/arithmetic.js';
import { batchNormGrad } from './rules/batchnorm.js';
import { concatGrad, splitGrad } from './rules/concat-split.js';
import { convTransposeGrad } from './rules/conv-transpose.js';
import { convGrad } from './rules/conv.js';
import { cumSumGrad } from './rules/cumsum.js';
import { depthToSpaceGrad, spaceToDepthGrad } from './rules/depth-space.js';
import { dropoutGrad } from './rules/dropout.js';
import { einsumGrad } from './rules/einsum.js';
import { gatherElementsGrad, gatherGrad, scatterGrad } from './rules/gather-scatter.js';
import { gemmGrad, matMulGrad } from './rules/matmul.js';
import { groupNormGrad, instanceNormGrad, layerNormGrad, lpNormGrad, lrnGrad, meanVarianceNormGrad } from './rules/normalization.js';
import { padGrad } from './rules/pad.js';
import { averagePoolGrad, globalAveragePoolGrad, globalMaxPoolGrad, maxPoolGrad } from './rules/pooling.js';
import { reduceL2LogSumProdGrad, reduceLogSumExpGrad, reduceMaxMinGrad, reduceSumMeanGrad, reduceSumSquareL1Grad } from './rules/reductions.js';
import { castGrad, expandGrad, identityGrad, reshapeLikeGrad, transposeGrad } from './rules/reshape.js';
import { resizeGrad } from './rules/resize.js';
import { clipGrad, hardmaxGrad, maxMinGrad, triluGrad, whereGrad } from './rules/selection.js';
import { sliceGrad } from './rules/slice.js';
import { softmaxCrossEntropyGrad } from './rules/softmax-cross-entropy.js';
import { logSoftmaxGrad, softmaxGrad } from './rules/softmax.js';
import { tileGrad } from './rules/tile.js';
import { trigonometryGrad } from './rules/trigonometry.js';
import { unaryMathGrad } from './rules/unary-math.js';
export const GRADIENT_RULES = [
    // Elementwise. Broadcasting arithmetic (each input's gradient unbroadcast to its shape).
    { family: 'arithmetic', rules: [addSubGrad, mulGrad, divGrad, powGrad, sumGrad, meanGrad] },
    // One-input functions, each a line of a slope table: Neg, Abs, Reciprocal, Exp, Log, Sqrt, Erf, Softplus.
    { family: 'unary-math', rules: [unaryMathGrad] },
    // Sin ... Atanh, one slope table.
    { family: 'trigonometry', rules: [trigonometryGrad] },
    // Relu ... Gelu as a slope table, and PRelu (a trainable slope).
    { family: 'activations', rules: [activationsGrad, preluGrad] },
    // dy goes where the pick went: Where, Max/Min, Clip, Trilu; Hardmax has none.
    { family: 'selection', rules: [whereGrad, maxMinGrad, clipGrad, triluGrad, hardmaxGrad] },
    { family: 'softmax', rules: [softmaxGrad, logSoftmaxGrad] },
    { family: 'dropout', rules: [dropoutGrad] },
    // Products.
    { family: 'matmul', rules: [matMulGrad, gemmGrad] },
    { family: 'einsum', rules: [einsumGrad] },
    // Moving and copying elements.
    { family: 'reshape', rules: [identityGrad, castGrad, reshapeLikeGrad, expandGrad, transposeGrad] },
    { family: 'concat-split', rules: [concatGrad, splitGrad] },
    { family: 'slice', rules: [sliceGrad] },
    { family: 'tile', rules: [tileGrad] },
    { family: 'depth-space', rules: [depthToSpaceGrad, spaceToDepthGrad] },
    { family: 'gather-scatter', rules: [gatherGrad, gatherElementsGrad, scatterGrad] },
    { family: 'pad', rules: [padGrad] },
    { family: 'resize', rules: [resizeGrad] },
    // Sums and extremes along axes.
    { family: 'cumsum', rules: [cumSumGrad] },
    { family: 'reductions', rules: [reduceSumMeanGrad, reduceSumSquareL1Grad, reduceL2LogSumProdGrad, reduceLogSumExpGrad, reduceMaxMinGrad] },
    // Convolution, pooling, normalization, loss.
    { family: 'conv', rules: [convGrad] },
    { family: 'conv-transpose', rules: [convTransposeGrad] },
    { family: 'pooling', rules: [maxPoolGrad, averagePoolGrad, globalAveragePoolGrad, globalMaxPoolGrad] },
    { family: 'batchnorm', rules: [batchNormGrad] },
    { family: 'normalization', rules: [layerNormGrad, instanceNormGrad, groupNormGrad, meanVarianceNormGrad, lpNormGrad, lrnGrad] },
    { family: 'softmax-cross-entropy', rules: [softmaxCrossEntropyGrad] },
];
const key = (domain, opType) => `${domain}::${opType}`;
/** `<domain>::<op>` -> its rule and family; a second rule for an op is an error naming the op and both families. */
export function buildRuleMap(families) {
    const byKey = new Map();
    for (const { family, rules } of families) {
        for (const rule of rules) {
            for (const op of rule.opTypes) {
                const k = key(rule.domain ?? '', op);
                const first = byKey.get(k);
                if (first) {
                    const where = rule.domain ? ` (domain ${rule.domain})` : '';
                    throw new Error(`two gradient rules registered for ${op}${where}: one in rules/${first.family}.ts, one in rules/${family}.ts`);
                }
                byKey.set(k, { rule, family });
            }
        }
    }
    return byKey;
}
const RULES = buildRuleMap(GRADIENT_RULES);
/** The rule for an op, with its family, or undefined when regraft cannot differentiate it. */
export function findRule(opType, domain) {
    return RULES.get(key(domain === 'ai.onnx' ? '' : domain, opType));
}
/** Op types with a gradient rule, for docs and error messages. */
export function differentiableOps() {
    return [...RULES.keys()].map((k) => k.replace(/^::/, '')).sort();
}
