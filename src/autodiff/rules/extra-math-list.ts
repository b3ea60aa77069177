import type { GradientRule } from '../types.js';
import { clipGrad } from './clip.js';
import { eluGrad, seluGrad } from './elu-selu.js';
import { hardSigmoidGrad, hardSwishGrad } from './hard-sigmoid-swish.js';
import { maxMinGrad } from './max-min.js';
import { preluGrad } from './prelu.js';
import { reciprocalGrad, softsignGrad } from './softsign-reciprocal.js';
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
];
