/*
 * Shape rule of every Reduce* op: the reduced axes become 1 (keepdims, the default) or disappear. No axes means all
 * of them, unless noop_with_empty_axes makes the op the identity. Axes are an attribute before the opset where they
 * became an input (13 for ReduceSum, 18 for the others); a run-time axes input leaves the shape unknown.
 */
import { nonNegativeAxis, range } from './dims.js';
/** Axes move from attribute to input at opset 13 for ReduceSum and at 18 for the others. */
export function reduction(opsetAxesInput) {
    return (node, c) => {
        const x = c.shape(node.inputs[0]);
        const elemType = c.elemType(node.inputs[0]);
        if (!x)
            return [{ elemType }];
        const fromInput = (node.graph.opset('') ?? 0) >= opsetAxesInput;
        const axes = fromInput ? (node.inputs[1] ? c.constInts(node.inputs[1]) : []) : node.attrs.has('axes') ? node.attrs.ints('axes') : [];
        if (!axes)
            return [{ elemType }];
        const keep = node.attrs.int('keepdims', 1) !== 0;
        if (axes.length === 0 && node.attrs.int('noop_with_empty_axes', 0) !== 0)
            return [{ elemType, shape: x }];
        const reduced = new Set(axes.length === 0 ? range(x.length) : axes.map((a) => nonNegativeAxis(a, x.length)));
        const shape = keep ? x.map((d, i) => (reduced.has(i) ? 1 : d)) : x.filter((_, i) => !reduced.has(i));
        return [{ elemType, shape }];
    };
}
