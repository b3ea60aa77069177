import type { GradientRule } from '../types.js';
import { celuGrad, mishGrad, thresholdedReluGrad } from './celu-mish.js';
import { clipGrad } from './clip.js';
import { cumSumGrad } from './cumsum.js';
import { einsumGrad } from './einsum.js';
import { eluGrad, seluGrad } from './elu-selu.js';
import { hardSigmoidGrad, hardSwishGrad } from './hard-sigmoid-swish.js';
import { maxMinGrad } from './max-min.js';
import { meanGrad } from './mean.js';
import { preluGrad } from './prelu.js';
import { reduceLogSumExpGrad } from './reduce-logsumexp.js';
import { reduceMoreGrad } from './reduce-more.js';
import { reciprocalGrad, softsignGrad } from './softsign-reciprocal.js';
import { trigMoreGrad } from './trig-more.js';
import { cosGrad, sinGrad } from './trig.js';
import { hardmaxGrad, triluGrad } from './trilu-hardmax.js';
import { whereGrad } from './where.js';

/** More elementwise ops found in PyTorch exports: clamps, selections and the less common activations. */
export const EXTRA_MATH_RULES: readonly GradientRule[] = [
  // clamps and selections
  clipGrad,
  maxMinGrad,
  meanGrad,
  whereGrad,
  triluGrad,
  hardmaxGrad,
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
  trigMoreGrad,
  // sums and products along axes
  cumSumGrad,
  reduceLogSumExpGrad,
  reduceMoreGrad,
  einsumGrad,
];
