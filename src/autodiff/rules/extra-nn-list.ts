import type { GradientRule } from '../types.js';
import { convTransposeGrad } from './conv-transpose.js';
import { depthToSpaceGrad, spaceToDepthGrad } from './depth-space.js';
import { gatherElementsGrad } from './gather-elements.js';
import { groupNormGrad } from './group-norm.js';
import { instanceNormGrad } from './instance-norm.js';
import { lrnGrad } from './lrn.js';
import { globalMaxPoolGrad, reduceMaxMinGrad } from './max-reductions.js';
import { lpNormGrad, meanVarianceNormGrad } from './norm-more.js';
import { padGrad } from './pad.js';
import { resizeGrad } from './resize.js';
import { scatterGrad } from './scatter.js';
import { tileGrad } from './tile.js';

/**
 * Structural ops of PyTorch and TensorFlow exports beyond the core NN set: padding, max/min reductions, transposed
 * convolution, copies and rearrangements (Tile, Resize, DepthToSpace, GatherElements) and the older normalizations.
 */
export const EXTRA_NN_RULES: readonly GradientRule[] = [
  padGrad,
  globalMaxPoolGrad,
  reduceMaxMinGrad,
  convTransposeGrad,
  tileGrad,
  resizeGrad,
  depthToSpaceGrad,
  spaceToDepthGrad,
  gatherElementsGrad,
  scatterGrad,
  instanceNormGrad,
  lrnGrad,
  groupNormGrad,
  meanVarianceNormGrad,
  lpNormGrad,
];
