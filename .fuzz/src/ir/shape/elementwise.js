/*
 * Shape rules of the elementwise ops. One-input functions (math, activations, trigonometry, Clip's scalar bounds,
 * PRelu's slope that broadcasts one way to X) keep input 0's type and shape; arithmetic, comparisons and Where
 * broadcast numpy-style; Dropout adds a bool mask shaped like X; Cast changes the type only; Constant reads its
 * tensor.
 */
import { DataType } from '../dtype.js';
import { tensorDims } from '../tensor.js';
import { broadcastShapes } from './dims.js';
/** The output is shaped and typed like input 0 (every op whose other inputs never change the output's shape). */
export const sameAsInput = (node, c) => [{ elemType: c.elemType(node.inputs[0]), shape: c.shape(node.inputs[0]) }];
/** Broadcasting arithmetic over every present input; the result has input 0's type. */
export const broadcasting = (node, c) => [
    { elemType: c.elemType(node.inputs[0]), shape: broadcastShapes(node.inputs.filter((v) => v).map((v) => c.shape(v))) },
];
/** Where(cond, x, y): the three broadcast, the result has x's type. */
export const where = (node, c) => [{ elemType: c.elemType(node.inputs[1]), shape: broadcastShapes(node.inputs.map((v) => c.shape(v))) }];
/** Comparisons and logic: broadcast, bool. */
export const comparison = (node, c) => [{ elemType: DataType.BOOL, shape: broadcastShapes(node.inputs.map((v) => c.shape(v))) }];
/** Dropout: y like x, and the optional mask output, bool and shaped like x. */
export const dropout = (node, c) => [sameAsInput(node, c)[0], { elemType: DataType.BOOL, shape: c.shape(node.inputs[0]) }];
/** Cast: the `to` type; the shape, and any dims the input holds, pass through. */
export const cast = (node, c) => [{ elemType: node.attrs.int('to'), shape: c.shape(node.inputs[0]), dims: c.dims(node.inputs[0]) }];
/** Constant: its tensor's type and dims. */
export const constant = (node) => {
    const t = node.attrs.tensor('value');
    return [t ? { elemType: t.dataType, shape: tensorDims(t) } : {}];
};
