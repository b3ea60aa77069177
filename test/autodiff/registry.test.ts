import { describe, expect, it } from 'vitest';
import { buildRuleMap, differentiableOps, findRule, GRADIENT_RULES, type RuleFamily } from '../../src/autodiff/registry.js';
import { padGrad } from '../../src/autodiff/rules/pad.js';
import { unaryMathGrad } from '../../src/autodiff/rules/unary-math.js';
import type { GradientRule } from '../../src/autodiff/types.js';

/** A second Pad rule, as a family that forgot Pad already has one would add it. */
const anotherPad: GradientRule = { opTypes: ['LRN', 'Pad'], grad: () => [null] };

describe('the gradient rule registry', () => {
  it('refuses a second rule for an op, naming the op and both rules\' files', () => {
    const families: RuleFamily[] = [
      { family: 'pad', rules: [padGrad] },
      { family: 'normalization', rules: [anotherPad] },
    ];
    expect(() => buildRuleMap(families)).toThrow('two gradient rules registered for Pad: one in rules/pad.ts, one in rules/normalization.ts');
  });

  it('keys rules by domain: the same op type in another domain is not a duplicate, a second one there is', () => {
    const custom: GradientRule = { opTypes: ['Pad'], domain: 'com.example', grad: () => [null] };
    expect(buildRuleMap([{ family: 'pad', rules: [padGrad, custom] }]).size).toBe(2);
    expect(() => buildRuleMap([{ family: 'pad', rules: [custom] }, { family: 'other', rules: [custom] }])).toThrow(
      'two gradient rules registered for Pad (domain com.example): one in rules/pad.ts, one in rules/other.ts',
    );
  });

  it('builds from GRADIENT_RULES: every op once, found with its family', () => {
    const ops = GRADIENT_RULES.flatMap((f) => f.rules.flatMap((r) => r.opTypes));
    expect(differentiableOps()).toEqual([...ops].sort());
    expect(findRule('Pad', '')).toEqual({ rule: padGrad, family: 'pad' });
    expect(findRule('Sqrt', 'ai.onnx')).toEqual({ rule: unaryMathGrad, family: 'unary-math' });
    expect(findRule('NoSuchOp', '')).toBeUndefined();
  });
});
