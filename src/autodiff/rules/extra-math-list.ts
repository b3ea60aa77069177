import type { GradientRule } from '../types.js';
import { celuGrad, mishGrad, thresholdedReluGrad } from './celu-mish.js';
import { clipGrad } from './clip.js';
import { cumSumGrad } from './cumsum.js';
import { einsumGrad } from './einsum.js';
import { eluGrad, seluGrad } from './elu-selu.js';
import { hardSigmoidGrad, hardSwishGrad } from './hard-sigmoid-swish.js';
import { maxMinGrad } from './max-min.js';
import { preluGrad } from './prelu.js';
import { reduceLogSumExpGrad } from './reduce-logsumexp.js';
import { reciprocalGrad, softsignGrad } from './softsign-reciprocal.js';
import { cosGrad, sinGrad } from './trig.js';
import { whereGrad } from './where.js';

/** More elementwise ops found in PyTorch exports: clamps, selections and the less common activations. */
export const EXTRA_MATH_RULES: readonly GradientRule[] = [
  // clamps and selections
  clipGrad,
  maxMinGrad,
  whereGrad,
  // activations
  preluGrad,
  eluGrad,
  seluGrad,
  hardSigmoidGrad,
  hardSwishGrad,
  softsignGrad,
  reciprocalGrad,
  celuGrad,
  thresholdedReluGrad,
  mishGrad,
  // trigonometry (positional encodings)
  sinGrad,
  cosGrad,
  // sums and products along axes
  cumSumGrad,
  reduceLogSumExpGrad,
  einsumGrad,
];
