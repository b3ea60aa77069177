import { RegraftError } from '../../errors.js';
import { normalizeAxis } from '../axes.js';
import { requireRank, zerosLike } from '../shapes.js';
/**
 * Concat: y = [x_0, x_1, ...] along axis    dx_i = the slice of dy that x_i filled = Split(dy, sizes)[i]
 * Split:  y_i = slice i of x along axis      dx = Concat(dy_i, axis), zeros where output i misses the loss
 */
function splitSizes(ctx, axis) {
    const sizes = ctx.node.inputs.map((v) => (v ? ctx.shape(v)?.[axis] : undefined));
    if (sizes.every((d) => typeof d === 'number'))
        return sizes;
    if (ctx.opset < 13) {
        throw new RegraftError(`${ctx.node.describe()}: input sizes along axis ${axis} are only known at run time, which needs opset 13 or later; declare static shapes`);
    }
    const { b } = ctx;
    const at = b.ints([axis], 'axes');
    const next = b.ints([axis + 1], 'ends');
    return b.op('Concat', ctx.node.inputs.map((v) => b.op('Slice', [ctx.shapeOf(v), at, next])), { axis: 0 });
}
export const concatGrad = {
    opTypes: ['Concat'],
    grad(ctx) {
        const { b } = ctx;
        const n = ctx.node.inputs.length;
        const axis = normalizeAxis(ctx, ctx.attrs.int('axis'), requireRank(ctx, ctx.x(0)));
        const sizes = splitSizes(ctx, axis);
        const parts = Array.isArray(sizes)
            ? ctx.opset >= 13
                ? b.ops('Split', [ctx.dy(0), b.ints(sizes, 'split')], { axis }, n)
                : b.ops('Split', [ctx.dy(0)], { axis, split: sizes }, n)
            : b.ops('Split', [ctx.dy(0), sizes], { axis }, n);
        return parts.map((p, i) => (ctx.needs(i) ? p : null));
    },
};
export const splitGrad = {
    opTypes: ['Split'],
    grad(ctx) {
        const rest = ctx.node.inputs.slice(1).map(() => null);
        if (!ctx.needs(0))
            return [null, ...rest];
        const axis = ctx.attrs.int('axis', 0);
        const pieces = ctx.node.outputs.map((y, i) => ctx.dy(i) ?? zerosLike(ctx, y));
        return [ctx.b.op('Concat', pieces, { axis }), ...rest];
    },
};
