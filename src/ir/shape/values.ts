/*
 * Value propagation of small integer tensors (onnx's data propagation): the contents of a scalar or 1-D integer or
 * bool tensor, when the analysis knows them, as dims (numbers, symbolic dims, or null for an unknown element; bools
 * as 0/1). Shape, Size, constants and the shape arithmetic PyTorch's exporters emit on them (Gather, Slice, Concat,
 * Add, Mul, Div, Equal, Where, Cast, ...) keep them known, so a Reshape target or a Slice bound computed from a
 * shape is a constant when the shapes are static and an exact expression (`sequence - 1`) when they are not.
 */
import { constantTensor } from '../constant.js';
import { DataType, isFloatType, isIntegerType } from '../dtype.js';
import { tensorDims, tensorToBools, tensorToNumbers, type TensorProto } from '../tensor.js';
import type { Dim, Value } from '../value.js';
import { addDims, compareDims, dimAtMost, dimBounds, divDims, maxDims, minDims, modDims, mulDims, negDim, sameDim, subDims } from './symbolic-dims.js';

/** The most elements a propagated value holds: shape vectors, bounds, small index ranges. */
export const MAX_VALUES = 1024;

/** The elements of an integer or bool tensor as values (bools as 0/1); undefined for a tensor of any other type. */
export function integerContents(t: TensorProto | undefined): number[] | undefined {
  if (!t) return undefined;
  if (t.dataType === DataType.BOOL) return tensorToBools(t).map((b) => (b ? 1 : 0));
  return isIntegerType(t.dataType) ? tensorToNumbers(t) : undefined;
}

/** The contents of a constant scalar or 1-D integer or bool tensor (initializer or Constant), when small. */
export function constantValues(v: Value | null | undefined): Dim[] | undefined {
  const t = constantTensor(v);
  if (!t) return undefined;
  const dims = tensorDims(t);
  if (dims.length > 1 || (dims[0] ?? 1) > MAX_VALUES) return undefined;
  return integerContents(t);
}

/** The numbers of a value when every element is known and static. */
export function numbersOf(values: readonly Dim[] | undefined): number[] | undefined {
  return values && values.every((d) => typeof d === 'number') ? (values as number[]) : undefined;
}

const bool = (b: boolean | undefined): Dim => (b === undefined ? null : b ? 1 : 0);

/** Truth of a dim used as a bool (0 false, anything provably >= 1 true). */
function truth(d: Dim): boolean | undefined {
  if (typeof d === 'number') return d !== 0;
  const bounds = dimBounds(d);
  return bounds && bounds[0] >= 1 ? true : undefined;
}

function lessThan(a: Dim, b: Dim): boolean | undefined {
  if (compareDims(a, b) === -1) return true;
  return dimAtMost(b, a) ? false : undefined;
}

const BINARY: Record<string, (a: Dim, b: Dim) => Dim> = {
  Add: addDims,
  Sub: subDims,
  Mul: mulDims,
  Div: divDims,
  Mod: modDims,
  Max: maxDims,
  Min: minDims,
  Equal: (a, b) => (sameDim(a, b) ? 1 : compareDims(a, b) !== undefined && compareDims(a, b) !== 0 ? 0 : null),
  Less: (a, b) => bool(lessThan(a, b)),
  Greater: (a, b) => bool(lessThan(b, a)),
  LessOrEqual: (a, b) => {
    const l = lessThan(b, a);
    return bool(l === undefined ? undefined : !l);
  },
  GreaterOrEqual: (a, b) => {
    const l = lessThan(a, b);
    return bool(l === undefined ? undefined : !l);
  },
  And: (a, b) => {
    const [x, y] = [truth(a), truth(b)];
    return x === false || y === false ? 0 : bool(x === undefined || y === undefined ? undefined : true);
  },
  Or: (a, b) => {
    const [x, y] = [truth(a), truth(b)];
    return x === true || y === true ? 1 : bool(x === undefined || y === undefined ? undefined : false);
  },
  Xor: (a, b) => {
    const [x, y] = [truth(a), truth(b)];
    return bool(x === undefined || y === undefined ? undefined : x !== y);
  },
};

/** Max, Min and Sum take any number of inputs. */
const VARIADIC: Record<string, (a: Dim, b: Dim) => Dim> = { Max: maxDims, Min: minDims, Sum: addDims };

const UNARY: Record<string, (a: Dim) => Dim> = {
  Identity: (a) => a,
  Neg: negDim,
  Abs: (a) => (typeof a === 'number' ? Math.abs(a) : dimAtMost(0, a) ? a : null),
  Not: (a) => {
    const t = truth(a);
    return bool(t === undefined ? undefined : !t);
  },
  // Integer tensors are already whole: rounding changes nothing.
  Floor: (a) => a,
  Ceil: (a) => a,
  Round: (a) => a,
};

/** numpy broadcasting of scalars and 1-D vectors: the result length, or undefined when lengths clash. */
function broadcastLength(values: readonly Dim[][]): number | undefined {
  let n = 1;
  for (const v of values) {
    if (v.length === 1) continue;
    if (n !== 1 && n !== v.length) return undefined;
    n = v.length;
  }
  return n;
}

/**
 * The values of an elementwise op over known values (undefined when the op is not one of shape arithmetic, a value
 * is missing, or the inputs are not integer or bool: float math on dims would round).
 */
export function elementwiseValues(opType: string, inputs: readonly (Dim[] | undefined)[], inputTypes: readonly (number | undefined)[]): Dim[] | undefined {
  if (inputs.some((v) => v === undefined)) return undefined;
  const values = inputs as Dim[][];
  const exact = (t: number | undefined) => t !== undefined && !isFloatType(t);
  const n = broadcastLength(values);
  if (n === undefined || n > MAX_VALUES) return undefined;
  const at = (v: Dim[], i: number): Dim => (v.length === 1 ? v[0] : v[i]);
  if (opType === 'Where') {
    if (!exact(inputTypes[1])) return undefined;
    const [c, x, y] = values;
    return Array.from({ length: n }, (_, i) => {
      const t = truth(at(c, i));
      if (t !== undefined) return t ? at(x, i) : at(y, i);
      return sameDim(at(x, i), at(y, i)) ? at(x, i) : null;
    });
  }
  if (!inputTypes.every(exact)) return undefined;
  const unary = UNARY[opType];
  if (unary && values.length === 1) return values[0].map(unary);
  const binary = BINARY[opType];
  if (binary && values.length === 2) return Array.from({ length: n }, (_, i) => binary(at(values[0], i), at(values[1], i)));
  const variadic = VARIADIC[opType];
  if (variadic && values.length >= 1) return Array.from({ length: n }, (_, i) => values.map((v) => at(v, i)).reduce((p, q) => variadic(p, q)));
  return undefined;
}

/** Cast of known values: bool keeps truth, integers and floats keep the (whole) values. */
export function castValues(values: readonly Dim[] | undefined, to: number): Dim[] | undefined {
  if (!values) return undefined;
  if (to === DataType.BOOL) return values.map((d) => bool(truth(d)));
  return isIntegerType(to) || isFloatType(to) ? [...values] : undefined;
}
