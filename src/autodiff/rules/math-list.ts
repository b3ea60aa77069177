import type { GradientRule } from '../types.js';
import { leakyReluGrad, reluGrad, sigmoidGrad, tanhGrad } from './activations.js';
import { addSubGrad } from './add-sub.js';
import { concatGrad, splitGrad } from './concat-split.js';
import { dropoutGrad } from './dropout.js';
import { erfGrad, geluGrad } from './erf-gelu.js';
import { expGrad, logGrad, sqrtGrad } from './exp-log.js';
import { expandGrad } from './expand.js';
import { gatherGrad } from './gather.js';
import { gemmGrad } from './gemm.js';
import { castGrad, identityGrad, sumGrad } from './identity-cast.js';
import { matMulGrad } from './matmul.js';
import { divGrad, mulGrad, negGrad } from './mul-div.js';
import { powGrad } from './pow.js';
import { reduceSumMeanGrad } from './reduce.js';
import { reshapeLikeGrad } from './reshape-like.js';
import { sliceGrad } from './slice.js';
import { logSoftmaxGrad, softmaxGrad } from './softmax.js';
import { transposeGrad } from './transpose.js';

/** Elementwise, matrix and shape ops. */
export const MATH_RULES: readonly GradientRule[] = [
  // elementwise arithmetic
  addSubGrad,
  mulGrad,
  divGrad,
  negGrad,
  sumGrad,
  powGrad,
  // pointwise functions
  reluGrad,
  leakyReluGrad,
  sigmoidGrad,
  tanhGrad,
  expGrad,
  logGrad,
  sqrtGrad,
  erfGrad,
  geluGrad,
  softmaxGrad,
  logSoftmaxGrad,
  dropoutGrad,
  // matrix products
  gemmGrad,
  matMulGrad,
  // type and shape
  identityGrad,
  castGrad,
  reshapeLikeGrad,
  transposeGrad,
  concatGrad,
  splitGrad,
  sliceGrad,
  gatherGrad,
  expandGrad,
  reduceSumMeanGrad,
];
