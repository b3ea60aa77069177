import type { GradientRule } from '../types.js';

/** Convolution, pooling, normalization and loss ops. */
export const NN_RULES: readonly GradientRule[] = [];
