import type { GradientRule } from '../types.js';
import { absGrad } from './abs.js';
import { reduceNormGrad } from './reduce-norms.js';
import { softplusGrad } from './softplus.js';

/** Ops that losses and penalties emit beyond the math and NN families. */
export const LOSS_RULES: readonly GradientRule[] = [absGrad, softplusGrad, reduceNormGrad];
