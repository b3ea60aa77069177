import type { GradientRule } from '../types.js';
import { averagePoolGrad } from './avgpool.js';
import { batchNormGrad } from './batchnorm.js';
import { convGrad } from './conv.js';
import { globalAveragePoolGrad } from './global-avgpool.js';
import { layerNormGrad } from './layernorm.js';
import { maxPoolGrad } from './maxpool.js';
import { softmaxCrossEntropyGrad } from './softmax-cross-entropy.js';

/** Convolution, pooling, normalization and loss ops. */
export const NN_RULES: readonly GradientRule[] = [
  convGrad,
  maxPoolGrad,
  averagePoolGrad,
  globalAveragePoolGrad,
  batchNormGrad,
  layerNormGrad,
  softmaxCrossEntropyGrad,
];
