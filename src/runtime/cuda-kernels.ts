/**
 * Which ONNX ops onnxruntime's CUDA execution provider has kernels for: a table of facts, read from the list
 * onnxruntime generates from its kernel registrations (docs/OperatorKernels.md of microsoft/onnxruntime at commit
 * 001d12d2623fd411ce0f83d05abb5e82304a3389, section "Operators implemented by CUDAExecutionProvider", domain
 * ai.onnx). No code or prose of onnxruntime's is here, only op names, version ranges and whether float is among a
 * range's types. The onnxruntime-node regraft pins (1.30.0) was built from a nearby revision; a kernel added or
 * dropped between the two would make a line of this table wrong, not the check that reads it.
 *
 * How a range matches (onnxruntime's kernel_registry.cc, VerifyVersion): a node is matched by its schema's
 * since-version, not by the model's opset. A closed range `7-12` or a single version `13` matches since-versions in
 * it; an open one `14+` matches since-version 14 only, because a newer schema of the op may postdate the kernel. So
 * Pad at opset 19 (schema Pad-19) has no CUDA kernel although `18+` is listed.
 *
 * Only ranges whose kernel takes tensor(float) are in CUDA_FLOAT_KERNELS; CUDA_OTHER_KERNELS holds the ranges
 * registered for other types only (bool logic, integer matmul, Equal before opset 11). com.microsoft kernels are
 * left out: regraft emits no op of that domain. onnxruntime's internal MemcpyFromHost/MemcpyToHost are left out too.
 */

/** `from-to`, a single version, or `from+` (that since-version only, see above), separated by spaces. */
type Ranges = string;

export const CUDA_FLOAT_KERNELS: Readonly<Record<string, Ranges>> = {
  Abs: '6-12 13+',
  Add: '7-12 13 14+',
  Affine: '1+',
  ArgMax: '1-11 12 13+',
  ArgMin: '1-11 12 13+',
  Attention: '23 24+',
  AveragePool: '7-9 10 11-18 19-21 22+',
  BatchNormalization: '7-8 9-13 14 15+',
  Cast: '6-8 9-12 13-18 19-20 21-22 23+',
  Ceil: '6-12 13+',
  Clip: '6-10 11 12 13+',
  Compress: '9-10 11+',
  Concat: '4-10 11-12 13+',
  ConcatFromSequence: '11+',
  ConstantOfShape: '9+',
  Conv: '1-10 11-21 22+',
  ConvTranspose: '1-10 11+',
  Cos: '7+',
  Crop: '1+',
  CumSum: '11-13 14+',
  DepthToSpace: '1-10 11-12 13+',
  // Its float is the output's, which every range has.
  DequantizeLinear: '10-12 13-18 19-20 21+',
  Div: '7-12 13 14+',
  Dropout: '7-9 10-11 12 13+',
  DynamicSlice: '1+',
  Einsum: '12+',
  Elu: '6+',
  Equal: '11-12 13+',
  Erf: '9-12 13+',
  Exp: '6-12 13+',
  Expand: '8-12 13+',
  EyeLike: '9+',
  Flatten: '1-8 9-10 11-12 13+',
  Floor: '6-12 13+',
  GRU: '7-13 14+',
  Gather: '1-10 11-12 13+',
  GatherElements: '11-12 13+',
  GatherND: '11 12 13+',
  Gelu: '20+',
  Gemm: '7-8 9-10 11-12 13+',
  GlobalAveragePool: '1+',
  GlobalMaxPool: '1+',
  Greater: '7-8 9-12 13+',
  GreaterOrEqual: '12-15 16+',
  GridSample: '16-19 20-21 22+',
  HardSigmoid: '6-21 22+',
  HardSwish: '14-21 22+',
  Identity: '1-12 13 14-18 19+',
  If: '1-10 11-12 13-18 19+',
  ImageScaler: '1+',
  InstanceNormalization: '6+',
  IsInf: '10-19 20+',
  IsNaN: '9-12 13-19 20+',
  LRN: '1-12 13+',
  LSTM: '7-13 14+',
  LayerNormalization: '1-16 17+',
  LeakyRelu: '6-15 16+',
  Less: '7-8 9-12 13+',
  LessOrEqual: '12-15 16+',
  Log: '6-12 13+',
  LogSoftmax: '1-10 11-12 13+',
  Loop: '1-10 11-12 13-18 19+',
  MatMul: '1-8 9-12 13+',
  Max: '6-11 12 13+',
  MaxPool: '1-7 8-9 10 11 12+',
  Min: '6-11 12 13+',
  Mod: '10-12 13+',
  Mul: '7-12 13 14+',
  Neg: '6-12 13+',
  NonZero: '9-12 13+',
  OneHot: '11+',
  PRelu: '7-8 9-15 16+',
  Pad: '2-10 11-12 13-17 18+',
  ParametricSoftplus: '1+',
  Pow: '7-11 12 13-14 15+',
  QuantizeLinear: '10-12 13-18 19-20 21+',
  RMSNormalization: '23+',
  RNN: '7-13 14+',
  RandomNormal: '1+',
  RandomNormalLike: '1+',
  RandomUniform: '1+',
  RandomUniformLike: '1+',
  Range: '11+',
  Reciprocal: '6-12 13+',
  ReduceL1: '1-17 18+',
  ReduceL2: '1-17 18+',
  ReduceLogSum: '1-17 18+',
  ReduceLogSumExp: '1-17 18+',
  ReduceMax: '1-17 18+',
  ReduceMean: '1-17 18+',
  ReduceMin: '1-17 18+',
  ReduceProd: '1-17 18+',
  ReduceSum: '1-12 13+',
  ReduceSumSquare: '1-17 18+',
  Relu: '6-12 13 14+',
  Reshape: '1-4 5-12 13 14-18 19-20 21-22 23+',
  Resize: '10 11-12 13-17 18 19+',
  ReverseSequence: '10+',
  RoiAlign: '10+',
  RotaryEmbedding: '23+',
  Round: '11+',
  ScaledTanh: '1+',
  Scan: '8 9-10 11-15 16-18 19+',
  Scatter: '9-10',
  ScatterElements: '11-12 13-15 16-17 18+',
  ScatterND: '11-12 13-15 16-17 18+',
  Selu: '6+',
  SequenceAt: '11+',
  SequenceConstruct: '11+',
  SequenceEmpty: '11+',
  SequenceErase: '11+',
  SequenceInsert: '11+',
  SequenceLength: '11+',
  Shape: '1-12 13-14 15-18 19-20 21-22 23+',
  Shrink: '9+',
  Sigmoid: '6-12 13+',
  Sign: '13+',
  SimplifiedLayerNormalization: '1+',
  Sin: '7+',
  Size: '1-12 13+',
  Slice: '1-9 10 11-12 13+',
  Softmax: '1-10 11-12 13+',
  Softplus: '1+',
  Softsign: '1+',
  SpaceToDepth: '1-12 13+',
  Split: '2-10 11-12 13-17 18+',
  Sqrt: '6-12 13+',
  Squeeze: '1-10 11-12 13-20 21-22 23+',
  Sub: '7-12 13 14+',
  Sum: '6-7 8-12 13+',
  Tanh: '6-12 13+',
  TensorScatter: '24+',
  ThresholdedRelu: '1+ 10+',
  Tile: '6-12 13+',
  TopK: '1-9 10 11+',
  Transpose: '1-12 13-20 21-22 23+',
  Trilu: '14+',
  Unsqueeze: '1-10 11-12 13-20 21-22 23+',
  Upsample: '7-8 9',
  Where: '9-15 16+',
};

/** Ranges whose kernel takes no tensor(float). */
export const CUDA_OTHER_KERNELS: Readonly<Record<string, Ranges>> = {
  And: '7+',
  Equal: '7-10',
  MatMulInteger: '10+',
  Not: '1+',
  Or: '7+',
  Xor: '7+',
};

/**
 * Ops whose CUDA kernel keeps its (int64) output in host memory; onnxruntime then places the integer shape
 * arithmetic that reads it on the CPU on purpose, which costs no device copy. Their float kernels do not matter.
 */
export const HOST_OUTPUT_OPS: ReadonlySet<string> = new Set(['Shape', 'Size']);

/** Ops that need no kernel: onnxruntime turns Constant nodes into initializers when it loads the model. */
export const KERNEL_FREE_OPS: ReadonlySet<string> = new Set(['Constant']);

export interface KernelRange {
  from: number;
  /** Inclusive; undefined for an open `from+` range, which matches since-version `from` only. */
  to?: number;
}

function parseRanges(ranges: Ranges): KernelRange[] {
  return ranges.split(' ').map((r) => {
    if (r.endsWith('+')) return { from: Number(r.slice(0, -1)) };
    const [from, to] = r.split('-').map(Number);
    return { from, to: to ?? from };
  });
}

const parsed = (table: Readonly<Record<string, Ranges>>) =>
  new Map(Object.entries(table).map(([op, ranges]) => [op, parseRanges(ranges)]));
const FLOAT_RANGES = parsed(CUDA_FLOAT_KERNELS);
const OTHER_RANGES = parsed(CUDA_OTHER_KERNELS);

const matches = (r: KernelRange, sinceVersion: number): boolean =>
  r.to === undefined ? r.from === sinceVersion : r.from <= sinceVersion && sinceVersion <= r.to;

export type CudaKernel = 'float' | 'other types only' | 'none';

/** Whether the CUDA provider registers a kernel for an ai.onnx op at a schema since-version, and for which types. */
export function cudaKernelFor(opType: string, sinceVersion: number): CudaKernel {
  if (FLOAT_RANGES.get(opType)?.some((r) => matches(r, sinceVersion))) return 'float';
  if (OTHER_RANGES.get(opType)?.some((r) => matches(r, sinceVersion))) return 'other types only';
  return 'none';
}

/** Whether the table lists the op at all (at any version). */
export const cudaKnowsOp = (opType: string): boolean => FLOAT_RANGES.has(opType) || OTHER_RANGES.has(opType);
