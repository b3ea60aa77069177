/*
 * Where the shape analysis lost track of a value, and what a user can do about it: the end of the one-line error a
 * gradient rule gives when it needs a rank, or a constant (a Slice bound, Reduce axes, pads), that the analysis
 * does not have.
 *
 *   MatMul node 'mm': the rank of 'probs' is unknown, so its gradient cannot be built; the shape analysis cannot
 *   follow CustomSoftmax node 'cs' (no shape rule for CustomSoftmax in domain 'com.example'): fix the data inputs'
 *   dynamic dims with compile --dim batch=SIZE --dim sequence=SIZE, upgrade it with: regraft convert ..., or
 *   --freeze the parameters that feed MatMul node 'mm' so no gradient flows through it
 */
import { OPSET_UPGRADE_HINT } from '../../errors.js';
import { DataType, isIntegerType } from '../dtype.js';
import type { Node } from '../node.js';
import type { Dim, Value } from '../value.js';
import { hasShapeRule } from './infer.js';
import { symbolsOf } from './symbolic-dims.js';

/** Integers and bools can be shape arithmetic, whose contents the analysis follows; other types hold data. */
const isShapeType = (t: number): boolean => isIntegerType(t) || t === DataType.BOOL;

/** A float (or other non-shape) tensor that is not a constant: its values exist only at run time. */
const isDataValued = (v: Value): boolean => v.elemType !== undefined && !isShapeType(v.elemType) && !v.initializer && v.producer?.opType !== 'Constant';

/** What the analysis is missing: a value's rank (its shape is unknown), or a small integer tensor's contents. */
export type LostFact = 'rank' | 'contents';

/**
 * The node where the analysis lost track: walking back from `v` through inputs it does not know (`known` false),
 * the first node whose own inputs it knows all of; undefined when `v` is itself a graph input or initializer.
 */
export function whereTrackWasLost(v: Value, known: (v: Value) => boolean): Node | undefined {
  const seen = new Set<Node>();
  let node = v.producer;
  while (node && !seen.has(node)) {
    seen.add(node);
    const unknownInput = node.inputs.find((i): i is Value => i !== null && !known(i) && i.producer !== null);
    if (!unknownInput) return node;
    node = unknownInput.producer;
  }
  return node ?? undefined;
}

/** The graph's data inputs (not initializers) that `v` is computed from. */
function dataInputsBehind(v: Value): Value[] {
  const seen = new Set<Value>();
  const inputs: Value[] = [];
  const stack = [v];
  while (stack.length > 0) {
    const u = stack.pop()!;
    if (seen.has(u)) continue;
    seen.add(u);
    if (u.producer) stack.push(...u.producer.inputs.filter((i): i is Value => i !== null));
    else if (u.isGraphInput && !u.initializer) inputs.push(u);
  }
  return inputs;
}

/**
 * The advice for `node`'s rule, which needs `what` of `v`: where the analysis lost it and the three ways out (fix
 * the dynamic dims with --dim, upgrade the opset, or freeze what feeds the node so no gradient passes through it).
 * `contents` reads what the analysis knows of a small integer tensor.
 */
export function lostTrackAdvice(node: Node, v: Value, what: LostFact, contents: (v: Value) => Dim[] | undefined): string {
  const knownContents = (u: Value) => {
    if (u.elemType !== undefined && !isShapeType(u.elemType)) return true; // float data never holds a shape
    const c = contents(u);
    return c !== undefined && !c.includes(null);
  };
  const known = what === 'rank' ? (u: Value) => u.shape !== undefined : knownContents;
  const lost = whereTrackWasLost(v, known);
  const opset = node.graph.opset(lost?.domain || '') ?? node.graph.opset('');
  const held = what === 'contents' && known(v) ? contents(v)! : undefined;
  let where: string;
  if (held) where = `'${v.name}' holds [${held.join(', ')}], which depends on the data inputs' dynamic dims`;
  else if (!lost && what === 'rank') where = `'${v.name}' is a graph input whose shape is not declared (declare it in the model)`;
  else if (!lost) where = `'${v.name}' is an input of the model, known only at run time`;
  else if (what === 'contents' && hasShapeRule(lost) && lost.inputs.some((i) => i !== null && isDataValued(i)))
    where = `'${v.name}' is computed from tensor values, not shapes (at ${lost.describe()}), so only run time knows it`;
  else if (!hasShapeRule(lost)) where = `the shape analysis cannot follow ${lost.describe()} (no shape rule for ${lost.opType}${lost.domain ? ` in domain '${lost.domain}'` : ''})`;
  else where = `the shape analysis cannot follow ${lost.describe()} (opset ${opset})`;
  // The dims to fix: those the contents are made of, else every dynamic dim of the data inputs behind `v`.
  const dynamic = [...new Set(held ? held.flatMap((d) => symbolsOf(d)) : dataInputsBehind(v).flatMap((i) => (i.shape ?? []).flatMap((d) => symbolsOf(d))))];
  const fixes = [
    ...(dynamic.length > 0 ? [`fix the data inputs' dynamic dims with compile --dim ${dynamic.map((d) => `${d}=SIZE`).join(' --dim ')}`] : []),
    OPSET_UPGRADE_HINT,
    `--freeze the parameters that feed ${node.describe()} so no gradient flows through it`,
  ];
  return `${where}: ${fixes.slice(0, -1).join(', ')}, or ${fixes[fixes.length - 1]}`;
}
