import { OPSET_UPGRADE_HINT, RegraftError } from '../errors.js';
import { GraphBuilder } from '../ir/builder.js';
import { isFloatType } from '../ir/dtype.js';
import type { Model } from '../ir/model.js';
import type { Node } from '../ir/node.js';
import { inferShapes, inferShapesOf } from '../ir/shape/infer.js';
import { lostTrackAdvice } from '../ir/shape/lost-track.js';
import type { InferredType, ShapeFacts } from '../ir/shape/types.js';
import { constantValues, numbersOf } from '../ir/shape/values.js';
import type { Dim, Value } from '../ir/value.js';
import { findRule, type RegisteredRule } from './registry.js';
import type { GradContext } from './types.js';
import { unbroadcast } from './unbroadcast.js';
import { GRAD_SUFFIX } from '../training-interface.js';

/** The oldest standard opset whose operators the gradient rules may emit. */
export const MIN_OPSET = 9;

export interface BackwardOptions {
  /** The scalar to differentiate. */
  loss: Value;
  /** The values to differentiate with respect to (trainable parameters). */
  wrt: readonly Value[];
  /** Prefix of the names of backward nodes (default `grad/`). */
  namePrefix?: string;
}

export interface BackwardResult {
  /** Gradient value of each `wrt` value that the loss depends on, named `<param>_grad`. */
  grads: Map<Value, Value>;
  /** `wrt` values the loss does not depend on (their gradient is zero). */
  unused: Value[];
  /** Nodes the backward pass added. */
  nodes: Node[];
}

/**
 * Reverse-mode autodiff over the IR, emitting standard ONNX ops into the same graph.
 *
 * Only nodes on a path from a `wrt` value to the loss are differentiated (so no gradient of the input data is ever
 * computed); they are visited in reverse topological order; a value used several times receives the Sum of its
 * gradient contributions (micrograd's `+=`). The loss is seeded with 1.
 */
export function buildBackward(model: Model, opts: BackwardOptions): BackwardResult {
  const graph = model.graph;
  const { loss } = opts;
  const modelOpset = graph.opset('') ?? 0;
  if (modelOpset < MIN_OPSET) {
    throw new RegraftError(
      `the model imports ai.onnx opset ${modelOpset}; regraft's backward pass emits opset ${MIN_OPSET}+ operators (Expand, Where, OneHot); ${OPSET_UPGRADE_HINT} (or re-export from PyTorch with opset_version=17)`,
    );
  }
  graph.toposort();
  const facts = inferShapes(graph);
  const lossShape = loss.shape;
  if (lossShape && lossShape.length > 0 && lossShape.some((d) => d !== 1)) {
    throw new RegraftError(`loss '${loss.name}' has shape ${JSON.stringify(lossShape)}; the loss must be a scalar (reduce it first)`);
  }

  // Values the loss depends on, and values that depend on a parameter: their intersection needs gradients.
  const feedsLoss = new Set<Value>();
  const stack: Value[] = [loss];
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (feedsLoss.has(v)) continue;
    feedsLoss.add(v);
    for (const input of v.producer?.inputs ?? []) if (input) stack.push(input);
  }
  const fromParams = new Set<Value>();
  const queue = [...opts.wrt];
  while (queue.length > 0) {
    const v = queue.pop()!;
    if (fromParams.has(v)) continue;
    fromParams.add(v);
    for (const { node } of v.uses) {
      if (NON_DIFFERENTIABLE.has(node.opType)) continue;
      for (const out of node.outputs) if (out && !isIntegral(out)) queue.push(out);
    }
  }
  const needsGrad = (v: Value | null | undefined): v is Value => !!v && feedsLoss.has(v) && fromParams.has(v);

  const b = new GraphBuilder(graph);
  b.namePrefix = opts.namePrefix ?? 'grad/';
  const opset = graph.opset('') ?? 0;
  const contributions = new Map<Value, Value[]>();
  const addContribution = (v: Value, g: Value) => {
    const list = contributions.get(v);
    if (list) list.push(g);
    else contributions.set(v, [g]);
  };
  const summed = new Map<Value, Value>();
  const gradOf = (v: Value): Value | null => {
    const done = summed.get(v);
    if (done) return done;
    const list = contributions.get(v);
    if (!list || list.length === 0) return null;
    // Add for two contributions: onnxruntime's Add kernel is faster than its variadic Sum on large tensors.
    const total = list.length === 1 ? list[0] : list.length === 2 ? b.add(list[0], list[1]) : b.op('Sum', list);
    summed.set(v, total);
    return total;
  };
  const shapeValues = new Map<Value, Value>();
  const shapeOf = (v: Value): Value => {
    let s = shapeValues.get(v);
    if (!s) {
      s = b.op('Shape', [v]);
      shapeValues.set(v, s);
    }
    return s;
  };

  // d loss / d loss = 1, shaped like the loss ([] or [1, ...]).
  addContribution(loss, b.floatInit('grad_seed', [1], (lossShape ?? []).map(() => 1)));

  // Shapes of the backward values, inferred as they are built (never written into the graph), to check each rule.
  const inferred = new Map<Value, InferredType>();
  let inferredUpTo = 0;

  const forwardNodes = [...graph.nodes];
  for (let k = forwardNodes.length - 1; k >= 0; k--) {
    const node = forwardNodes[k];
    if (!node.inputs.some(needsGrad)) continue;
    if (!node.outputs.some((o) => o && feedsLoss.has(o))) continue;
    const outGrads = node.outputs.map((o) => (o ? gradOf(o) : null));
    if (outGrads.every((g) => g === null)) continue;
    const registered = findRule(node.opType, node.domain);
    if (!registered) {
      throw new RegraftError(
        `no gradient rule for ${node.describe()}${node.domain ? ` (domain ${node.domain})` : ''} on the path ${pathToLoss(node, feedsLoss, loss)}; freeze the parameters before it (--freeze) or add a rule in src/autodiff/rules/`,
      );
    }
    const ctx = makeContext(node, b, opset, outGrads, needsGrad, shapeOf, facts);
    const inputGrads = registered.rule.grad(ctx);
    inferShapesOf(b.created.slice(inferredUpTo), inferred, facts);
    inferredUpTo = b.created.length;
    checkRuleResult(node, registered, inputGrads, inferred);
    node.inputs.forEach((x, i) => {
      const g = inputGrads[i];
      if (g && needsGrad(x)) addContribution(x, g);
    });
  }

  const grads = new Map<Value, Value>();
  const unused: Value[] = [];
  const forwardSet = new Set(forwardNodes);
  for (const p of opts.wrt) {
    const g = gradOf(p);
    if (!g) {
      unused.push(p);
      continue;
    }
    grads.set(p, nameGradient(b, p, g, forwardSet));
  }
  graph.toposort();
  return { grads, unused, nodes: b.created };
}

/**
 * What tfjs's tape asserts of every gradient function: at most one gradient per forward input (null entries past
 * the last input are allowed: rules for ops with optional trailing inputs return a fixed-length list), and each
 * gradient shaped like its input where both shapes are static. A failure is a bug in the rule, named here.
 */
export function checkRuleResult(node: Node, registered: RegisteredRule, grads: readonly (Value | null | undefined)[], inferred: ReadonlyMap<Value, InferredType>): void {
  const rule = `the ${node.opType} gradient rule (src/autodiff/rules/${registered.family}.ts)`;
  const extra = grads.findIndex((g, i) => i >= node.inputs.length && g);
  if (extra >= 0) {
    throw new RegraftError(`${node.describe()}: ${rule} returned a gradient for input ${extra}, but the node has ${node.inputs.length} inputs`);
  }
  node.inputs.forEach((x, i) => {
    const g = grads[i];
    if (!x || !g) return;
    const want = staticShape(x.shape);
    const got = staticShape(g.shape ?? inferred.get(g)?.shape);
    if (want && got && (want.length !== got.length || want.some((d, k) => d !== got[k]))) {
      throw new RegraftError(`${node.describe()}: ${rule} gave input ${i} ('${x.name}', shape ${JSON.stringify(want)}) a gradient of shape ${JSON.stringify(got)}`);
    }
  });
}

function staticShape(shape: Dim[] | undefined): number[] | undefined {
  return shape && shape.every((d) => typeof d === 'number') ? (shape as number[]) : undefined;
}

/** Ops whose outputs carry no gradient (shapes, comparisons, indices): differentiation stops there. */
const NON_DIFFERENTIABLE = new Set([
  'Shape', 'Size', 'Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor',
  'ArgMax', 'ArgMin', 'NonZero', 'IsNaN', 'IsInf', 'Sign', 'Floor', 'Ceil', 'Round', 'EyeLike', 'RandomNormalLike',
  'RandomUniformLike', 'Bernoulli',
]);

/** Integer and bool values (indices, masks, shapes) carry no gradient. */
function isIntegral(v: Value): boolean {
  const t = v.elemType;
  return t !== undefined && !isFloatType(t);
}

/** Gives the gradient its ONNX Runtime name `<param>_grad`, renaming our own value or adding an Identity. */
function nameGradient(b: GraphBuilder, param: Value, g: Value, forwardNodes: ReadonlySet<Node>): Value {
  const name = b.graph.uniqueValueName(`${param.name}${GRAD_SUFFIX}`);
  const ours = g.producer && !forwardNodes.has(g.producer) && !g.isGraphOutput && g.implicitUses.size === 0;
  if (ours && /^val_\d+$/.test(g.name)) {
    g.rename(name);
    return g;
  }
  return b.op('Identity', [g], {}, { output: name });
}

function makeContext(
  node: Node,
  b: GraphBuilder,
  opset: number,
  outGrads: (Value | null)[],
  needsGrad: (v: Value | null | undefined) => boolean,
  shapeOf: (v: Value) => Value,
  facts: ShapeFacts,
): GradContext {
  const dims = (v: Value) => facts.get(v) ?? constantValues(v);
  const ctx: GradContext = {
    node,
    b,
    attrs: node.attrs,
    opset,
    x: (i) => {
      const v = node.inputs[i];
      if (!v) throw new RegraftError(`${node.describe()}: input ${i} is absent but its gradient rule needs it`);
      return v;
    },
    hasInput: (i) => !!node.inputs[i],
    y: (i) => node.output(i),
    dy: (i) => outGrads[i] ?? null,
    needs: (i) => needsGrad(node.inputs[i]),
    unbroadcast: (g, i) =>
      unbroadcast({ b, grad: g, resultShape: node.output(0).shape, input: ctx.x(i), inputShape: ctx.x(i).shape, opset, shapeOf, where: node.describe(), lostTrack: (v) => ctx.lostTrack(v, 'rank') }),
    shape: (v) => v.shape,
    rank: (v) => v.shape?.length,
    shapeOf,
    dims,
    ints: (v) => numbersOf(dims(v)),
    lostTrack: (v, what) => lostTrackAdvice(node, v, what, dims),
  };
  return ctx;
}

/** `Relu node 'r1' -> Gemm node 'fc2' -> ... -> loss`, following values the loss depends on. */
function pathToLoss(node: Node, feedsLoss: ReadonlySet<Value>, loss: Value): string {
  const steps = [node.describe()];
  let current: Node | null = node;
  for (let hops = 0; current && hops < 50; hops++) {
    if (current.outputs.includes(loss)) break;
    const next: Node | undefined = current.outputs
      .flatMap((o) => (o && feedsLoss.has(o) ? o.uses.map((u) => u.node) : []))
      .find((n) => n.outputs.some((o) => o && feedsLoss.has(o)));
    if (!next) break;
    steps.push(next.describe());
    current = next;
  }
  steps.push(`loss '${loss.name}'`);
  return steps.join(' -> ');
}
