import type { GradientRule } from './types.js';
import { RULES } from './rules/index.js';

const byKey = new Map<string, GradientRule>();
for (const rule of RULES) {
  for (const op of rule.opTypes) {
    const key = `${rule.domain ?? ''}::${op}`;
    if (byKey.has(key)) throw new Error(`two gradient rules registered for ${op}`);
    byKey.set(key, rule);
  }
}

/** The rule for an op, or undefined when regraft cannot differentiate it. */
export function findRule(opType: string, domain: string): GradientRule | undefined {
  return byKey.get(`${domain === 'ai.onnx' ? '' : domain}::${opType}`);
}

/** Op types with a gradient rule, for docs and error messages. */
export function differentiableOps(): string[] {
  return [...byKey.keys()].map((k) => k.replace(/^::/, '')).sort();
}
