/*
 * Every shape rule, in one explicit list grouped by op family (the file each family's rules live in). An op is in
 * exactly one entry: infer.ts builds its map from this list and refuses a second rule for an op. An op in no entry
 * has its outputs left unknown (the gradient rules then fall back to run-time shapes or name what is missing).
 */
import { broadcasting, cast, comparison, constant, dropout, mask, sameAsInput, unaryArithmetic, where } from './elementwise.js';
import { einsum, gemm, matMul } from './matmul.js';
import { batchNorm, conv, convTranspose, globalPool, layerNorm, pool, softmaxCrossEntropy } from './nn.js';
import { recurrent } from './recurrent.js';
import { reduction } from './reductions.js';
import { resize } from './resize.js';
import { constantOfShape, rangeOp, shapeOp, size } from './shape-ops.js';
import {
  concat,
  depthSpace,
  expand,
  flatten,
  gather,
  gatherElements,
  gatherND,
  oneHot,
  pad,
  reshape,
  slice,
  split,
  squeeze,
  tile,
  transpose,
  unsqueeze,
} from './tensor-ops.js';
import type { ShapeFamily } from './types.js';

export const SHAPE_RULES: readonly ShapeFamily[] = [
  {
    family: 'elementwise',
    rules: [
      // Pointwise math, activations and trigonometry: shaped like X.
      // Identity, Neg, Abs and rounding also carry an integer tensor's known contents (shape arithmetic).
      { opTypes: ['Identity', 'Neg', 'Abs', 'Floor', 'Ceil', 'Round'], rule: unaryArithmetic },
      { opTypes: ['Reciprocal', 'Exp', 'Log', 'Sqrt', 'Erf', 'Sign'], rule: sameAsInput },
      {
        opTypes: ['Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Elu', 'Selu', 'Celu', 'ThresholdedRelu', 'Mish', 'HardSigmoid', 'HardSwish', 'Softsign', 'Softplus', 'Gelu', 'Softmax', 'LogSoftmax'],
        rule: sameAsInput,
      },
      { opTypes: ['Sin', 'Cos', 'Tan', 'Sinh', 'Cosh', 'Atan', 'Asin', 'Acos', 'Asinh', 'Acosh', 'Atanh'], rule: sameAsInput },
      // Extra inputs that never change the shape: Clip's scalar bounds, PRelu's slope (broadcast one way, to X).
      { opTypes: ['Clip', 'PRelu'], rule: sameAsInput },
      // Masks and running sums along an axis: shaped like X.
      { opTypes: ['Trilu', 'Hardmax', 'CumSum'], rule: sameAsInput },
      { opTypes: ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'Max', 'Min', 'Sum', 'Mean'], rule: broadcasting },
      { opTypes: ['Where'], rule: where },
      { opTypes: ['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Not'], rule: comparison },
      { opTypes: ['IsNaN', 'IsInf'], rule: mask },
      { opTypes: ['Dropout'], rule: dropout },
      { opTypes: ['Cast'], rule: cast },
      { opTypes: ['Constant'], rule: constant },
    ],
  },
  {
    family: 'matmul',
    rules: [
      { opTypes: ['MatMul'], rule: matMul },
      { opTypes: ['Gemm'], rule: gemm },
      { opTypes: ['Einsum'], rule: einsum },
    ],
  },
  {
    family: 'tensor-ops',
    rules: [
      // Same elements, another shape or order; copies.
      { opTypes: ['Reshape'], rule: reshape },
      { opTypes: ['Flatten'], rule: flatten },
      { opTypes: ['Transpose'], rule: transpose },
      { opTypes: ['Squeeze'], rule: squeeze },
      { opTypes: ['Unsqueeze'], rule: unsqueeze },
      { opTypes: ['Expand'], rule: expand },
      { opTypes: ['Tile'], rule: tile },
      { opTypes: ['DepthToSpace', 'SpaceToDepth'], rule: depthSpace },
      // Joining, cutting, selecting and padding.
      { opTypes: ['Concat'], rule: concat },
      { opTypes: ['Split'], rule: split },
      { opTypes: ['Slice'], rule: slice },
      { opTypes: ['Gather'], rule: gather },
      { opTypes: ['GatherElements'], rule: gatherElements },
      { opTypes: ['GatherND'], rule: gatherND },
      { opTypes: ['ScatterElements', 'ScatterND'], rule: sameAsInput },
      { opTypes: ['Pad'], rule: pad },
      { opTypes: ['OneHot'], rule: oneHot },
    ],
  },
  {
    family: 'shape-ops',
    rules: [
      // Shapes as values, and values as shapes.
      { opTypes: ['Shape'], rule: shapeOp },
      { opTypes: ['Size'], rule: size },
      { opTypes: ['ConstantOfShape'], rule: constantOfShape },
      { opTypes: ['Range'], rule: rangeOp },
    ],
  },
  {
    family: 'reductions',
    rules: [
      // Axes became an input at opset 13 for ReduceSum, at 18 for the others.
      { opTypes: ['ReduceSum'], rule: reduction(13) },
      {
        opTypes: ['ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceSumSquare', 'ReduceLogSum', 'ReduceLogSumExp'],
        rule: reduction(18),
      },
    ],
  },
  {
    family: 'nn',
    rules: [
      { opTypes: ['Conv'], rule: conv },
      { opTypes: ['ConvTranspose'], rule: convTranspose },
      { opTypes: ['MaxPool', 'AveragePool'], rule: pool },
      { opTypes: ['GlobalAveragePool', 'GlobalMaxPool'], rule: globalPool },
      { opTypes: ['BatchNormalization'], rule: batchNorm },
      { opTypes: ['LayerNormalization'], rule: layerNorm },
      { opTypes: ['InstanceNormalization', 'GroupNormalization', 'MeanVarianceNormalization', 'LpNormalization', 'LRN'], rule: sameAsInput },
      { opTypes: ['SoftmaxCrossEntropyLoss'], rule: softmaxCrossEntropy },
    ],
  },
  {
    family: 'recurrent',
    rules: [{ opTypes: ['LSTM', 'GRU', 'RNN'], rule: recurrent }],
  },
  {
    family: 'resize',
    rules: [{ opTypes: ['Resize', 'Upsample'], rule: resize }],
  },
];
