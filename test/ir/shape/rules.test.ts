import { describe, expect, it } from 'vitest';
import { sameAsInput } from '../../../src/ir/shape/elementwise.js';
import { buildShapeRuleMap } from '../../../src/ir/shape/infer.js';
import { conv } from '../../../src/ir/shape/nn.js';
import { SHAPE_RULES } from '../../../src/ir/shape/rules.js';
import { pad } from '../../../src/ir/shape/tensor-ops.js';
import type { ShapeFamily } from '../../../src/ir/shape/types.js';

describe('the shape rule registry', () => {
  it('refuses a second rule for an op, naming the op and both families', () => {
    const families: ShapeFamily[] = [
      { family: 'tensor-ops', rules: [{ opTypes: ['Pad'], rule: pad }] },
      { family: 'nn', rules: [{ opTypes: ['Conv'], rule: conv }, { opTypes: ['Pad'], rule: sameAsInput }] },
    ];
    expect(() => buildShapeRuleMap(families)).toThrow("two shape rules registered for Pad: one in family 'tensor-ops', one in 'nn'");
  });

  it('refuses an op listed twice within one family', () => {
    const families: ShapeFamily[] = [{ family: 'elementwise', rules: [{ opTypes: ['Relu', 'Tanh', 'Relu'], rule: sameAsInput }] }];
    expect(() => buildShapeRuleMap(families)).toThrow("two shape rules registered for Relu: one in family 'elementwise', one in 'elementwise'");
  });

  it('builds from SHAPE_RULES, with one Pad rule: the one that reads the opset-18 axes input', () => {
    const rules = buildShapeRuleMap(SHAPE_RULES);
    expect(rules.get('Pad')).toBe(pad);
    expect(rules.size).toBe(SHAPE_RULES.flatMap((f) => f.rules.flatMap((r) => r.opTypes)).length);
  });
});
