import type { GradientRule } from '../types.js';
import { EXTRA_MATH_RULES } from './extra-math-list.js';
import { EXTRA_NN_RULES } from './extra-nn-list.js';
import { LOSS_RULES } from './loss-list.js';
import { MATH_RULES } from './math-list.js';
import { NN_RULES } from './nn-list.js';

/** Every gradient rule regraft knows, in one explicit list (a missing rule is an error naming the op and node). */
export const RULES: readonly GradientRule[] = [...MATH_RULES, ...EXTRA_MATH_RULES, ...NN_RULES, ...EXTRA_NN_RULES, ...LOSS_RULES];
