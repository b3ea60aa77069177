/*
 * What the sliding-window ops (Conv, ConvTranspose, MaxPool, AveragePool) share in their gradients: the window
 * attributes with defaults and auto_pad made explicit, spatial sizes (static when known, at run time otherwise),
 * cutting a transposed op's output to X's spatial size, and the batch/channel swap of the weight gradients.
 */
import { RegraftError } from '../errors.js';
import { TO_END } from './shapes.js';
/**
 * The weight gradient of a grouped convolution runs one Conv with the batch as channels: `v` [N, C, *S] becomes
 * [C/g, g*N, *S] (channel (j, n) belongs to group j), or just [C, N, *S] when group is 1. `spatial` holds S.
 */
export function channelsToBatch(ctx, v, group, spatialRank, spatial) {
    const { b } = ctx;
    const rest = Array.from({ length: spatialRank }, (_, i) => i + 2);
    if (group === 1)
        return b.op('Transpose', [v], { perm: [1, 0, ...rest] });
    // [N, C, *S] -> [N, g, C/g, *S] -> [C/g, g, N, *S] -> [C/g, g*N, *S]
    const sizes = spatial();
    const split = b.op('Reshape', [v, b.op('Concat', [b.ints([0, group, -1]), sizes], { axis: 0 })]);
    const moved = b.op('Transpose', [split], { perm: [2, 1, 0, ...rest.map((a) => a + 1)] });
    return b.op('Reshape', [moved, b.op('Concat', [b.ints([0, -1]), sizes], { axis: 0 })]);
}
/** `x[..., :ends]` on the trailing (spatial) axes 2..; `ends` is a 1-D int64 value, one entry per spatial axis. */
export function sliceSpatialTo(ctx, x, ends, spatialRank) {
    const axes = Array.from({ length: spatialRank }, (_, i) => i + 2);
    return ctx.b.op('Slice', [x, ctx.b.ints(axes.map(() => 0), 'starts'), ends, ctx.b.ints(axes, 'axes')]);
}
/** The spatial sizes of an [N, C, *spatial] value at run time: Shape(v)[2:]. */
export function spatialShapeOf(ctx, v) {
    return ctx.b.op('Slice', [ctx.shapeOf(v), ctx.b.ints([2], 'starts'), ctx.b.ints([TO_END], 'ends')]);
}
/** The spatial sizes of an [N, C, *spatial] value when shape inference knows them all. */
export function staticSpatialSizes(ctx, v) {
    const s = ctx.shape(v);
    return s && s.length > 2 && s.slice(2).every((d) => typeof d === 'number') ? s.slice(2) : undefined;
}
/** The spatial sizes of `v`, from static shape inference when fully known, otherwise at run time. */
export function spatialSizes(ctx, v) {
    const sizes = staticSpatialSizes(ctx, v);
    if (sizes)
        return ctx.b.ints(sizes, 'spatial');
    return spatialShapeOf(ctx, v);
}
/**
 * Reads strides/pads/dilations. auto_pad VALID means zero pads. SAME_UPPER/SAME_LOWER pads depend on the input size:
 * with `kernel` given and X's spatial sizes static they are made explicit (sameAutoPads), otherwise refused.
 */
export function windowAttrs(ctx, rank, kernel) {
    const autoPad = ctx.attrs.string('auto_pad', 'NOTSET');
    const ones = Array.from({ length: rank }, () => 1);
    const zeros = [...ones, ...ones].map(() => 0);
    const strides = ctx.attrs.ints('strides', ones);
    const dilations = ctx.attrs.ints('dilations', ones);
    let pads;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
        const s = ctx.shape(ctx.x(0));
        const sizes = s && s.length === rank + 2 && s.slice(2).every((d) => typeof d === 'number') ? s.slice(2) : undefined;
        if (!kernel || !sizes) {
            const missing = kernel ? `static spatial sizes of '${ctx.x(0).name}'` : 'the kernel size (a weight with a static shape, or kernel_shape)';
            throw new RegraftError(`${ctx.node.describe()}: auto_pad=${autoPad} needs ${missing} to compute its pads; declare the shapes or re-export the model with explicit pads`);
        }
        pads = sameAutoPads({ sizes, kernel, strides, dilations, mode: autoPad });
    }
    else {
        pads = autoPad === 'VALID' ? zeros : ctx.attrs.ints('pads', zeros);
    }
    const attrs = { strides, pads, dilations };
    if (attrs.strides.length !== rank || attrs.dilations.length !== rank || attrs.pads.length !== 2 * rank) {
        throw new RegraftError(`${ctx.node.describe()}: strides/pads/dilations do not match ${rank} spatial axes; fix the node's attributes`);
    }
    return attrs;
}
/**
 * The explicit pads [begin..., end...] that auto_pad SAME_UPPER / SAME_LOWER stands for (ONNX Conv/pool spec):
 * output size ceil(in / stride), total pad max(0, (out - 1) * stride + (k - 1) * dilation + 1 - in); an odd total
 * puts the extra element at the end (SAME_UPPER) or at the beginning (SAME_LOWER).
 */
export function sameAutoPads(opts) {
    const { sizes, kernel, strides, dilations, mode } = opts;
    const totals = sizes.map((n, i) => Math.max(0, (Math.ceil(n / strides[i]) - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - n));
    const small = totals.map((t) => Math.floor(t / 2));
    const large = totals.map((t) => t - Math.floor(t / 2));
    return mode === 'SAME_UPPER' ? [...small, ...large] : [...large, ...small];
}
/** Pads with the end side set to zero: the transposed op then lays its output out from X's first element. */
export function beginPadsOnly(pads) {
    const r = pads.length / 2;
    return [...pads.slice(0, r), ...pads.slice(0, r).map(() => 0)];
}
