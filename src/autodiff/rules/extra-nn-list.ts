import type { GradientRule } from '../types.js';
import { convTransposeGrad } from './conv-transpose.js';
import { globalMaxPoolGrad, reduceMaxMinGrad } from './max-reductions.js';
import { padGrad } from './pad.js';

/** Structural ops of PyTorch exports beyond the core NN set: padding, max/min reductions, transposed convolution. */
export const EXTRA_NN_RULES: readonly GradientRule[] = [padGrad, globalMaxPoolGrad, reduceMaxMinGrad, convTransposeGrad];
