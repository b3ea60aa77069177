/**
 * DepthToSpace / SpaceToDepth move elements between the channel and spatial axes of X [N, C, H, W] (block size b,
 * C' = C / b^2). Each is a fixed permutation of the elements, so its gradient is the inverse permutation of dY:
 *
 *   DepthToSpace DCR: X as [N, b1, b2, C', H, W] -> perm [0, 3, 4, 1, 5, 2] -> Y [N, C', H b, W b]
 *                     dX = SpaceToDepth(dY, b), which is exactly that permutation undone
 *   DepthToSpace CRD: X as [N, C', b1, b2, H, W] -> perm [0, 1, 4, 2, 5, 3] -> Y [N, C', H b, W b]
 *                     dX = dY as [N, C', H, b, W, b] -> inverse perm [0, 1, 3, 5, 2, 4] -> X's shape
 *   SpaceToDepth:     the inverse of DepthToSpace DCR, so dX = DepthToSpace(dY, b, DCR)
 */
import { RegraftError } from '../../errors.js';
import { shapeValue, staticDims } from '../shapes.js';
export const depthToSpaceGrad = {
    opTypes: ['DepthToSpace'],
    grad(ctx) {
        if (!ctx.needs(0))
            return [null];
        const blocksize = ctx.attrs.int('blocksize');
        const mode = ctx.attrs.string('mode', 'DCR');
        if (mode === 'DCR')
            return [ctx.b.op('SpaceToDepth', [ctx.dy(0)], { blocksize })];
        if (mode !== 'CRD')
            throw new RegraftError(`${ctx.node.describe()}: DepthToSpace mode '${mode}' is not DCR or CRD; fix the node's mode attribute`);
        const { b } = ctx;
        const x = ctx.x(0);
        const blocks = b.op('Reshape', [ctx.dy(0), splitShape(ctx, x, blocksize)]);
        const moved = b.op('Transpose', [blocks], { perm: [0, 1, 3, 5, 2, 4] });
        return [b.op('Reshape', [moved, shapeValue(ctx, x)])];
    },
};
export const spaceToDepthGrad = {
    opTypes: ['SpaceToDepth'],
    grad(ctx) {
        if (!ctx.needs(0))
            return [null];
        return [ctx.b.op('DepthToSpace', [ctx.dy(0)], { blocksize: ctx.attrs.int('blocksize'), mode: 'DCR' })];
    },
};
/** [N, C', H, b, W, b] for X [N, C, H, W]: N and C' are copied from dY (Reshape's 0), H and W are X's. */
function splitShape(ctx, x, blocksize) {
    const { b } = ctx;
    const dims = staticDims(ctx, x);
    if (dims)
        return b.ints([0, 0, dims[2], blocksize, dims[3], blocksize], 'blocks_shape');
    const dim = (i) => b.op('Slice', [ctx.shapeOf(x), b.ints([i], 'starts'), b.ints([i + 1], 'ends')]);
    const block = b.ints([blocksize], 'blocksize');
    return b.op('Concat', [b.ints([0, 0], 'copied'), dim(2), block, dim(3), block], { axis: 0 });
}
