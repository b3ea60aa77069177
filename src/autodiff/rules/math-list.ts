import type { GradientRule } from '../types.js';
import { addSubGrad } from './add-sub.js';

/** Elementwise, matrix and shape ops. */
export const MATH_RULES: readonly GradientRule[] = [addSubGrad];
