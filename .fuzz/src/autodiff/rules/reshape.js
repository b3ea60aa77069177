/**
 * Ops that keep the elements and only change their shape, order or type:
 *
 *   Identity:                              y = x                  dx = dy
 *   Cast:                                  y = Cast(x, to)        dx = Cast(dy, to = type of x)
 *   Reshape, Flatten, Squeeze, Unsqueeze:  same elements, same order
 *                                                                 dx = Reshape(dy, shape(x))  (a constant shape when x's
 *                                                                 is static, Shape(x) otherwise)
 *   Expand:                                y = x broadcast to shape   dx = unbroadcast(dy)
 *   Transpose:                             y[i...] = x[i permuted]    dx = Transpose(dy, inverse(perm)),
 *                                                                     inverse(perm)[perm[k]] = k (perm defaults to
 *                                                                     reversing the axes)
 *
 * Cast's gradient travels in the input's float type (float16 weights cast up to float32 get float16 gradients); a
 * non-float input has no gradient. Shape, axes and perm inputs get none.
 */
import { RegraftError } from '../../errors.js';
import { isFloatType } from '../../ir/dtype.js';
import { reshapeLike, requireRank } from '../shapes.js';
export const identityGrad = {
    opTypes: ['Identity'],
    grad: (ctx) => [ctx.needs(0) ? ctx.dy(0) : null],
};
export const castGrad = {
    opTypes: ['Cast'],
    grad(ctx) {
        if (!ctx.needs(0))
            return [null];
        const x = ctx.x(0);
        const type = x.elemType;
        if (type === undefined) {
            throw new RegraftError(`${ctx.node.describe()}: the element type of '${x.name}' is unknown, so the gradient cannot be cast back; declare the input's type`);
        }
        if (!isFloatType(type))
            return [null];
        if (type === ctx.y(0).elemType)
            return [ctx.dy(0)];
        return [ctx.b.op('Cast', [ctx.dy(0)], { to: type })];
    },
};
export const reshapeLikeGrad = {
    opTypes: ['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze'],
    grad(ctx) {
        const dx = ctx.needs(0) ? reshapeLike(ctx, ctx.dy(0), ctx.x(0)) : null;
        return [dx, ...ctx.node.inputs.slice(1).map(() => null)];
    },
};
export const expandGrad = {
    opTypes: ['Expand'],
    grad: (ctx) => [ctx.needs(0) ? ctx.unbroadcast(ctx.dy(0), 0) : null, null],
};
export const transposeGrad = {
    opTypes: ['Transpose'],
    grad(ctx) {
        if (!ctx.needs(0))
            return [null];
        const perm = ctx.attrs.has('perm') ? ctx.attrs.ints('perm') : reversed(requireRank(ctx, ctx.x(0)));
        const inverse = new Array(perm.length);
        perm.forEach((p, k) => (inverse[p] = k));
        return [ctx.b.op('Transpose', [ctx.dy(0)], { perm: inverse })];
    },
};
function reversed(rank) {
    return Array.from({ length: rank }, (_, i) => rank - 1 - i);
}
