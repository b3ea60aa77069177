/*
 * Static shape rules for elementwise ops whose extra inputs never change the output's shape, so the generic
 * rules in shape-inference.ts (same as input 0 / full broadcast) do not list them:
 *   Clip:  the bounds are scalars (inputs from opset 11, attributes before);
 *   PRelu: the slope broadcasts one way, to X (e.g. [C, 1, 1] against [N, C, H, W]).
 * Registered by registerExtraShapeRules(); the PRelu gradient needs the output's static rank to undo broadcasting.
 */
import { registerShapeRule, type ShapeRule } from './shape-inference.js';

const shapeOfX: ShapeRule = (node, c) => [{ elemType: c.elemType(node.inputs[0]), shape: c.shape(node.inputs[0]) }];

export function registerExtraShapeRules(): void {
  registerShapeRule(['Clip', 'PRelu'], shapeOfX);
}
