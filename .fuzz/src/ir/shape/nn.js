/*
 * Shape rules of the convolution, pooling, normalization and loss ops, so the values after them keep a known rank
 * and sizes (BatchNormalization's gradient needs its input's rank; tests need static output shapes). A dim that
 * cannot be computed statically stays null. InstanceNormalization, GroupNormalization, MeanVarianceNormalization,
 * LpNormalization and LRN keep their input's shape (elementwise.ts sameAsInput).
 */
import { DataType } from '../dtype.js';
import { nonNegativeAxis } from './dims.js';
/** Output size of a sliding window along one axis: floor (or ceil) of (n + pads - extent) / stride, plus one. */
function windowOutput(n, padBegin, padEnd, extent, stride, ceil) {
    if (typeof n !== 'number')
        return null;
    const span = n + padBegin + padEnd - extent;
    let out = (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
    // A ceil_mode window that would start in the end padding is dropped.
    if (ceil && (out - 1) * stride >= n + padBegin)
        out -= 1;
    return out;
}
/** Spatial output sizes of Conv/MaxPool/AveragePool; undefined when the attributes do not fit the input. */
function windowedSpatial(node, x, kernel, ceil) {
    const r = kernel.length;
    if (x.length !== r + 2)
        return undefined;
    const a = node.attrs;
    const ones = kernel.map(() => 1);
    const strides = a.ints('strides', ones);
    const dilations = a.ints('dilations', ones);
    const autoPad = a.string('auto_pad', 'NOTSET');
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
        return x.slice(2).map((n, i) => (typeof n === 'number' ? Math.ceil(n / strides[i]) : null));
    }
    const pads = autoPad === 'VALID' ? [...ones, ...ones].map(() => 0) : a.ints('pads', [...ones, ...ones].map(() => 0));
    return x.slice(2).map((n, i) => windowOutput(n, pads[i], pads[i + r], (kernel[i] - 1) * dilations[i] + 1, strides[i], ceil));
}
export const conv = (node, c) => {
    const x = c.shape(node.inputs[0]);
    const w = c.shape(node.inputs[1]);
    const elemType = c.elemType(node.inputs[0]);
    const kernel = node.attrs.has('kernel_shape') ? node.attrs.ints('kernel_shape') : w?.slice(2);
    if (!x || !kernel || kernel.some((k) => typeof k !== 'number')) {
        // The rank alone still helps the rules downstream: it is the weight's.
        const rank = x?.length ?? w?.length;
        return [{ elemType, shape: rank === undefined ? undefined : Array.from({ length: rank }, (_, i) => (i === 1 && w ? w[0] : null)) }];
    }
    const spatial = windowedSpatial(node, x, kernel, false);
    return [{ elemType, shape: spatial ? [x[0], w ? w[0] : null, ...spatial] : undefined }];
};
/**
 * ConvTranspose: Y [N, W[1]*group, *S'] with S' = (S-1)*s + op + (k-1)*d + 1 - pb - pe, or output_shape when given,
 * or S*s under auto_pad SAME_* (the spec's rule).
 */
export const convTranspose = (node, c) => {
    const x = c.shape(node.inputs[0]);
    const w = c.shape(node.inputs[1]);
    const elemType = c.elemType(node.inputs[0]);
    const group = node.attrs.int('group', 1);
    const channels = w && typeof w[1] === 'number' ? w[1] * group : null;
    const rank = x?.length ?? w?.length;
    if (rank === undefined)
        return [{ elemType }];
    const r = rank - 2;
    const unknown = Array.from({ length: r }, () => null);
    const kernel = node.attrs.has('kernel_shape') ? node.attrs.ints('kernel_shape') : w?.slice(2);
    if (!x || !kernel || kernel.length !== r || kernel.some((k) => typeof k !== 'number')) {
        return [{ elemType, shape: [x?.[0] ?? null, channels, ...unknown] }];
    }
    const a = node.attrs;
    const zeros = kernel.map(() => 0);
    const ones = kernel.map(() => 1);
    const strides = a.ints('strides', ones);
    let spatial;
    if (a.has('output_shape')) {
        const given = a.ints('output_shape');
        spatial = given.length === r ? given : given.slice(-r);
    }
    else if (['SAME_UPPER', 'SAME_LOWER'].includes(a.string('auto_pad', 'NOTSET'))) {
        spatial = x.slice(2).map((n, i) => (typeof n === 'number' ? n * strides[i] : null));
    }
    else {
        const dilations = a.ints('dilations', ones);
        const outputPadding = a.ints('output_padding', zeros);
        const pads = a.string('auto_pad', 'NOTSET') === 'VALID' ? [...zeros, ...zeros] : a.ints('pads', [...zeros, ...zeros]);
        spatial = x.slice(2).map((n, i) => typeof n === 'number' ? (n - 1) * strides[i] + outputPadding[i] + (kernel[i] - 1) * dilations[i] + 1 - pads[i] - pads[i + r] : null);
    }
    return [{ elemType, shape: [x[0], channels, ...spatial] }];
};
export const pool = (node, c) => {
    const x = c.shape(node.inputs[0]);
    const elemType = c.elemType(node.inputs[0]);
    const kernel = node.attrs.ints('kernel_shape');
    const spatial = x ? windowedSpatial(node, x, kernel, node.attrs.int('ceil_mode', 0) === 1) : undefined;
    // Without the input's shape the rank is still the kernel's plus two.
    const shape = x && spatial ? [x[0], x[1], ...spatial] : x ? undefined : [null, null, ...kernel.map(() => null)];
    return [{ elemType, shape }, { elemType: DataType.INT64, shape }];
};
export const globalPool = (node, c) => {
    const x = c.shape(node.inputs[0]);
    return [{ elemType: c.elemType(node.inputs[0]), shape: x ? [x[0], x[1], ...x.slice(2).map(() => 1)] : undefined }];
};
export const batchNorm = (node, c) => {
    const elemType = c.elemType(node.inputs[0]);
    const channels = c.shape(node.inputs[1]);
    return [{ elemType, shape: c.shape(node.inputs[0]) }, { elemType, shape: channels }, { elemType, shape: channels }];
};
export const layerNorm = (node, c) => {
    const x = c.shape(node.inputs[0]);
    const elemType = c.elemType(node.inputs[0]);
    if (!x)
        return [{ elemType }];
    const raw = node.attrs.int('axis', -1);
    const axis = nonNegativeAxis(raw, x.length);
    const stats = x.map((d, i) => (i < axis ? d : 1));
    const statType = node.attrs.int('stash_type', DataType.FLOAT);
    return [{ elemType, shape: x }, { elemType: statType, shape: stats }, { elemType: statType, shape: stats }];
};
export const softmaxCrossEntropy = (node, c) => {
    const elemType = c.elemType(node.inputs[0]);
    const reduction = node.attrs.string('reduction', 'mean');
    return [{ elemType, shape: reduction === 'none' ? c.shape(node.inputs[1]) : [] }, { elemType, shape: c.shape(node.inputs[0]) }];
};
