/**
 * Resize in modes 'nearest' and 'linear' is separable and linear in X: along each resized axis,
 *
 *   Y = A X   (applied along that axis),   A a constant [out, in] matrix of interpolation weights,
 *
 * so the gradient is dX = A^T dY along the same axis. This module builds A from the ONNX Resize spec:
 *
 *   x_original(o), the input coordinate an output index o reads (coordinate_transformation_mode):
 *     half_pixel            (o + 0.5) / scale - 0.5
 *     pytorch_half_pixel    (o + 0.5) / scale - 0.5, or 0 when the output length is 1
 *     align_corners         o * (in - 1) / (out - 1), or 0 when the output length is 1
 *     asymmetric            o / scale
 *     tf_half_pixel_for_nn  (o + 0.5) / scale            (nearest only)
 *   scale is the given scale, or out / in when the output size is given instead.
 *
 *   nearest: row o holds a 1 at round(x_original) (nearest_mode), clamped to [0, in - 1].
 *   linear:  x_original is clamped to [0, in - 1] (the edge value repeats beyond the border); row o holds
 *            1 - t at floor(x) and t at floor(x) + 1, t = x - floor(x).
 */
const COORDINATE_TRANSFORMS = {
    half_pixel: (o, { scale }) => (o + 0.5) / scale - 0.5,
    pytorch_half_pixel: (o, { scale, outSize }) => (outSize > 1 ? (o + 0.5) / scale - 0.5 : 0),
    align_corners: (o, { inSize, outSize }) => (outSize > 1 ? (o * (inSize - 1)) / (outSize - 1) : 0),
    asymmetric: (o, { scale }) => o / scale,
    tf_half_pixel_for_nn: (o, { scale }) => (o + 0.5) / scale,
};
/** tf_half_pixel_for_nn is defined for nearest sampling only. */
const NEAREST_ONLY = new Set(['tf_half_pixel_for_nn']);
const ROUNDINGS = {
    round_prefer_floor: (x) => (x - Math.floor(x) === 0.5 ? Math.floor(x) : Math.round(x)),
    round_prefer_ceil: (x) => (x - Math.floor(x) === 0.5 ? Math.ceil(x) : Math.round(x)),
    floor: Math.floor,
    ceil: Math.ceil,
};
/** The coordinate formula named by coordinate_transformation_mode, or undefined when `mode` cannot use it here. */
export function coordinateTransform(name, mode) {
    if (mode === 'linear' && NEAREST_ONLY.has(name))
        return undefined;
    return COORDINATE_TRANSFORMS[name];
}
/** The rounding named by nearest_mode, or undefined for an unknown name. */
export function nearestRounding(name) {
    return ROUNDINGS[name];
}
/** The input index output `o` copies in nearest mode (clamped to the input). */
export function nearestSource(o, axis, sampling) {
    return clamp(sampling.rounding(sampling.coordinate(o, axis)), 0, axis.inSize - 1);
}
/** A as a row-major [outSize, inSize] array of weights. */
export function resizeMatrix(axis, sampling) {
    const { inSize, outSize } = axis;
    const a = new Float64Array(outSize * inSize);
    for (let o = 0; o < outSize; o++) {
        const row = o * inSize;
        if (sampling.mode === 'nearest') {
            a[row + nearestSource(o, axis, sampling)] = 1;
            continue;
        }
        const x = clamp(sampling.coordinate(o, axis), 0, inSize - 1);
        const low = Math.floor(x);
        const t = x - low;
        a[row + low] += 1 - t;
        // At the last input t is 0, so the (clamped) upper neighbour adds nothing.
        a[row + Math.min(low + 1, inSize - 1)] += t;
    }
    return a;
}
/** Whether A is the identity (the axis is not resized at all and can be skipped). */
export function isIdentity(a, axis) {
    if (axis.inSize !== axis.outSize)
        return false;
    const n = axis.inSize;
    for (let i = 0; i < n; i++)
        for (let k = 0; k < n; k++)
            if (a[i * n + k] !== (i === k ? 1 : 0))
                return false;
    return true;
}
function clamp(x, lo, hi) {
    return Math.min(hi, Math.max(lo, x));
}
