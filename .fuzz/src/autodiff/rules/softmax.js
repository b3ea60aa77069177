import { normalizeAxis } from '../axes.js';
import { requireRank } from '../shapes.js';
/**
 * Softmax:    y = exp(x) / sum(exp(x))     dx = y * (dy - sum(dy * y))
 * LogSoftmax: y = x - log sum(exp(x))      dx = dy - exp(y) * sum(dy)
 * The sums run over the normalized axes, keeping dims. From opset 13 that is the single `axis` (default -1);
 * before 13 the input was coerced to 2-D at `axis` (default 1), so the sums run over every axis from `axis` on.
 */
function normalizedAxes(ctx) {
    if (ctx.opset >= 13)
        return [ctx.attrs.int('axis', -1)];
    const rank = requireRank(ctx, ctx.x(0));
    const axis = normalizeAxis(ctx, ctx.attrs.int('axis', 1), rank);
    return Array.from({ length: rank - axis }, (_, i) => axis + i);
}
export const softmaxGrad = {
    opTypes: ['Softmax'],
    grad(ctx) {
        if (!ctx.needs(0))
            return [null];
        const { b } = ctx;
        const y = ctx.y(0);
        const dy = ctx.dy(0);
        const dot = b.reduceSum(b.mul(dy, y), normalizedAxes(ctx), true);
        return [b.mul(y, b.sub(dy, dot))];
    },
};
export const logSoftmaxGrad = {
    opTypes: ['LogSoftmax'],
    grad(ctx) {
        if (!ctx.needs(0))
            return [null];
        const { b } = ctx;
        const dy = ctx.dy(0);
        const total = b.reduceSum(dy, normalizedAxes(ctx), true);
        return [b.sub(dy, b.mul(b.op('Exp', [ctx.y(0)]), total))];
    },
};
