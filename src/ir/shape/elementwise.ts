/*
 * Shape rules of the elementwise ops. One-input functions (math, activations, trigonometry, Clip's scalar bounds,
 * PRelu's slope that broadcasts one way to X) keep input 0's type and shape; arithmetic, comparisons and Where
 * broadcast numpy-style; Dropout adds a bool mask shaped like X; Cast changes the type only; Constant reads its
 * tensor; IsNaN and IsInf give a bool mask shaped like X. On integer tensors whose contents are known (shape
 * arithmetic) the integer ops, comparisons, Where, Identity and Cast also compute those contents (values.ts).
 */
import { DataType } from '../dtype.js';
import { tensorDims } from '../tensor.js';
import { broadcastShapes } from './dims.js';
import type { ShapeRule } from './types.js';
import { castValues, constantValues, elementwiseValues } from './values.js';

/** The output is shaped and typed like input 0 (every op whose other inputs never change the output's shape). */
export const sameAsInput: ShapeRule = (node, c) => [{ elemType: c.elemType(node.inputs[0]), shape: c.shape(node.inputs[0]) }];

/** Shaped and typed like input 0, with its contents when they are known and the op is shape arithmetic (Neg, Abs, ...). */
export const unaryArithmetic: ShapeRule = (node, c) => [
  { ...sameAsInput(node, c)[0], dims: elementwiseValues(node.opType, [c.dims(node.inputs[0])], [c.elemType(node.inputs[0])]) },
];

/** Broadcasting arithmetic over every present input; the result has input 0's type. */
export const broadcasting: ShapeRule = (node, c) => {
  const inputs = node.inputs.filter((v) => v);
  return [
    {
      elemType: c.elemType(node.inputs[0]),
      shape: broadcastShapes(inputs.map((v) => c.shape(v))),
      dims: elementwiseValues(node.opType, inputs.map((v) => c.dims(v)), inputs.map((v) => c.elemType(v))),
    },
  ];
};

/** Where(cond, x, y): the three broadcast, the result has x's type. */
export const where: ShapeRule = (node, c) => [
  {
    elemType: c.elemType(node.inputs[1]),
    shape: broadcastShapes(node.inputs.map((v) => c.shape(v))),
    dims: elementwiseValues('Where', node.inputs.map((v) => c.dims(v)), node.inputs.map((v) => c.elemType(v))),
  },
];

/** Comparisons and logic: broadcast, bool. */
export const comparison: ShapeRule = (node, c) => [
  {
    elemType: DataType.BOOL,
    shape: broadcastShapes(node.inputs.map((v) => c.shape(v))),
    dims: elementwiseValues(node.opType, node.inputs.map((v) => c.dims(v)), node.inputs.map((v) => c.elemType(v))),
  },
];

/** IsNaN, IsInf: a bool mask shaped like X. */
export const mask: ShapeRule = (node, c) => [{ elemType: DataType.BOOL, shape: c.shape(node.inputs[0]) }];

/** Dropout: y like x, and the optional mask output, bool and shaped like x. */
export const dropout: ShapeRule = (node, c) => [sameAsInput(node, c)[0], { elemType: DataType.BOOL, shape: c.shape(node.inputs[0]) }];

/** Cast: the `to` type; the shape, and the contents when known, pass through. */
export const cast: ShapeRule = (node, c) => {
  const to = node.attrs.int('to');
  return [{ elemType: to, shape: c.shape(node.inputs[0]), dims: castValues(c.dims(node.inputs[0]), to) }];
};

/** Constant: its tensor's type and dims, and its contents when it is a small integer tensor. */
export const constant: ShapeRule = (node) => {
  const t = node.attrs.tensor('value');
  return [t ? { elemType: t.dataType, shape: tensorDims(t), dims: constantValues(node.outputs[0]) } : {}];
};
