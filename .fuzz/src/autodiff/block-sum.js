import { unsqueeze } from './shapes.js';
/** Sums `g` (rank `rank`, axis j of size outer[j] * inner[j]) over the `outer` or `inner` factor of every axis. */
export function sumBlocks(ctx, g, outer, inner, sumOver, rank) {
    const { b } = ctx;
    let split;
    if (Array.isArray(outer) && Array.isArray(inner)) {
        split = b.ints(outer.flatMap((o, j) => [o, inner[j]]), 'block_shape');
    }
    else {
        // [o0, o1, ...] and [i0, i1, ...] -> [[o0, i0], [o1, i1], ...] -> [o0, i0, o1, i1, ...]
        const asValue = (v) => (Array.isArray(v) ? b.ints(v, 'sizes') : v);
        const pairs = b.op('Concat', [unsqueeze(ctx, asValue(outer), [1]), unsqueeze(ctx, asValue(inner), [1])], { axis: 1 });
        split = b.op('Reshape', [pairs, b.ints([-1], 'flat')]);
    }
    const reshaped = b.op('Reshape', [g, split]);
    const axes = Array.from({ length: rank }, (_, j) => 2 * j + (sumOver === 'outer' ? 0 : 1));
    return b.reduceSum(reshaped, axes, false);
}
