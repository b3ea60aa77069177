import { RegraftError } from '../errors.js';
import { DataType, floatTensor, tensorDims, type Model, type Node, type Value } from '../ir/index.js';
import { Rng } from '../util/rng.js';
import type { Pass, PassResult } from './pass.js';

export interface ReplaceHeadOptions {
  /** The new number of classes (>= 1). */
  classes: number;
  /** The graph output the classifier writes (CLI: --head-output); default the first graph output. */
  output?: string;
  /** Seed of the new weights' initialization (default 0). */
  seed?: number;
}

export interface ReplaceHeadResult {
  /** Name of the Gemm or MatMul node whose weight was replaced. */
  node: string;
  weight: string;
  bias?: string;
  /** Class count before and after. */
  before: number;
  after: number;
  /** Input features of the head (F). */
  features: number;
}

/** The classifier layer found behind an output: its weight layout and the values whose class dim changes. */
interface Head {
  node: Node;
  weight: Value;
  bias: Value | undefined;
  /** The node that adds the bias: the Gemm itself, or the Add after a MatMul. */
  biasNode: Node;
  /** Whether the weight is stored [C, F] (Gemm transB=1) rather than [F, C]. */
  classesFirst: boolean;
  /** From the head's output to the graph output, each with the class count as its last dim. */
  chain: Value[];
}

const HEAD_FORMS = 'Gemm, or MatMul then Add, optionally followed by Softmax/LogSoftmax over the last axis';

/**
 * Replaces the final classification layer (Gemm, or MatMul + Add, optionally followed by a Softmax/LogSoftmax) with
 * a freshly initialized one of `opts.classes` classes, as in transfer learning. Everything before the head is left
 * untouched. Refuses (one line, naming node and tensor) anything it does not recognize.
 */
export function replaceHead(model: Model, opts: ReplaceHeadOptions): ReplaceHeadResult {
  const classes = opts.classes;
  if (!Number.isInteger(classes) || classes < 1) {
    throw new RegraftError(`replace-head: the class count must be a whole number of at least 1, got ${classes}`);
  }
  const output = pickOutput(model, opts.output);
  const head = findHead(output);
  const { weight, bias, classesFirst } = head;
  refuseShared(weight, head.node);
  if (bias) refuseShared(bias, head.biasNode);

  const wDims = tensorDims(weight.initializer!);
  const before = classesFirst ? wDims[0] : wDims[1];
  const features = classesFirst ? wDims[1] : wDims[0];
  if (!(features >= 1)) {
    throw new RegraftError(`replace-head: weight '${weight.name}' of ${head.node.describe()} has ${features} input features; nothing to classify from`);
  }
  const biasDims = bias ? tensorDims(bias.initializer!) : undefined;
  if (bias && biasDims && !isPerClass(biasDims, before)) {
    throw new RegraftError(
      `replace-head: bias '${bias.name}' of ${head.node.describe()} has dims [${biasDims.join(', ')}], not [${before}] or [1, ${before}]; pick the classifier's graph output with --head-output NAME`,
    );
  }

  // nn.Linear's reset_parameters: kaiming_uniform(a=sqrt(5)) for the weight reduces to U(-1/sqrt(F), 1/sqrt(F)),
  // and the bias uses the same bound.
  const rng = new Rng(opts.seed ?? 0);
  const bound = 1 / Math.sqrt(features);
  const draw = (n: number) => Array.from({ length: n }, () => rng.uniform(-bound, bound));
  const newWDims = classesFirst ? [classes, features] : [features, classes];
  // Same names as the replaced tensors, so `--freeze` globs and optimizer settings written for the original model
  // still name the same parameters.
  setTensor(weight, floatTensor(weight.name, draw(classes * features), newWDims));
  if (bias && biasDims) {
    const newBDims = biasDims.length === 2 ? [1, classes] : [classes];
    setTensor(bias, floatTensor(bias.name, draw(classes), newBDims));
  }
  // The IR writes value_info, graph output entries and initializer-inputs from Value.type, so updating the types
  // here leaves no stale width in the saved model.
  for (const v of head.chain) {
    const shape = v.shape;
    if (shape && shape.length > 0 && v.elemType !== undefined) v.setTensorType(v.elemType, [...shape.slice(0, -1), classes]);
  }
  return { node: head.node.name, weight: weight.name, bias: bias?.name, before, after: classes, features };
}

function pickOutput(model: Model, name: string | undefined): Value {
  const outputs = model.graph.outputs;
  if (name === undefined) {
    if (outputs.length === 0) throw new RegraftError('replace-head: the model has no graph outputs');
    return outputs[0];
  }
  const v = outputs.find((o) => o.name === name);
  if (!v) throw new RegraftError(`replace-head: '${name}' is not a graph output; the outputs are ${outputs.map((o) => `'${o.name}'`).join(', ')}`);
  return v;
}

function notAHead(what: string): never {
  throw new RegraftError(`replace-head: ${what}, not a classifier head (${HEAD_FORMS}); pick the classifier's graph output with --head-output NAME`);
}

function findHead(output: Value): Head {
  if (output.uses.length > 0) {
    notAHead(`output '${output.name}' is also read by ${output.uses[0].node.describe()}`);
  }
  const chain: Value[] = [output];
  let v = output;
  let producer = producerOf(v);
  if (producer.opType === 'Softmax' || producer.opType === 'LogSoftmax') {
    checkLastAxis(producer);
    v = onlyInput(producer, 0);
    chain.unshift(v);
    producer = producerOf(v);
  }
  if (producer.opType === 'Gemm') {
    const weight = constantInput(producer, 1, 'weight');
    const bias = producer.input(2) ? constantInput(producer, 2, 'bias') : undefined;
    return { node: producer, weight, bias, biasNode: producer, classesFirst: producer.attrs.int('transB', 0) === 1, chain };
  }
  if (producer.opType === 'Add') {
    const [a, b] = producer.inputs;
    const matmulSide = [a, b].findIndex((x) => x?.producer?.opType === 'MatMul' && !x.initializer);
    if (matmulSide < 0) notAHead(`${producer.describe()} adds no MatMul output`);
    const bias = constantInput(producer, 1 - matmulSide, 'bias');
    const mm = onlyInput(producer, matmulSide);
    const matmul = producerOf(mm);
    chain.unshift(mm);
    const weight = constantInput(matmul, 1, 'weight');
    return { node: matmul, weight, bias, biasNode: producer, classesFirst: false, chain };
  }
  notAHead(`output '${v.name}' is produced by ${producer.describe()}`);
}

function producerOf(v: Value): Node {
  if (!v.producer) notAHead(`'${v.name}' is a graph input or initializer`);
  return v.producer;
}

/** Input `index` of `node`, which must be produced by a node read by `node` alone (so changing its width is safe). */
function onlyInput(node: Node, index: number): Value {
  const v = node.input(index);
  if (!v) notAHead(`${node.describe()} has no input ${index}`);
  const others = v.uses.filter((u) => u.node !== node);
  if (others.length > 0 || v.implicitUses.size > 0) {
    throw new RegraftError(
      `replace-head: '${v.name}' feeds ${others[0]?.node.describe() ?? 'a subgraph'} besides ${node.describe()}, which would see the new class count; pick the classifier's graph output with --head-output NAME`,
    );
  }
  return v;
}

function constantInput(node: Node, index: number, role: 'weight' | 'bias'): Value {
  const v = node.input(index);
  if (!v) notAHead(`${node.describe()} has no ${role} input ${index}`);
  if (!v.initializer) {
    const source = v.producer ? `computed by ${v.producer.describe()}` : 'a graph input without a stored tensor';
    throw new RegraftError(`replace-head: ${role} '${v.name}' of ${node.describe()} is ${source}, not a constant initializer, so its size is not static; pick the classifier's graph output with --head-output NAME`);
  }
  if (v.initializer.dataType !== DataType.FLOAT) {
    throw new RegraftError(`replace-head: ${role} '${v.name}' of ${node.describe()} is not float32; only float32 heads can be replaced`);
  }
  const rank = tensorDims(v.initializer).length;
  if (role === 'weight' && rank !== 2) {
    throw new RegraftError(`replace-head: weight '${v.name}' of ${node.describe()} has rank ${rank}, not 2; pick the classifier's graph output with --head-output NAME`);
  }
  return v;
}

function refuseShared(v: Value, owner: Node): void {
  const other = v.uses.find((u) => u.node !== owner);
  if (other || v.implicitUses.size > 0) {
    const who = other ? other.node.describe() : 'a subgraph';
    throw new RegraftError(`replace-head: '${v.name}' of ${owner.describe()} is shared with ${who}; replacing it would change that node too, so the head is left alone`);
  }
}

/** Softmax over anything but the class axis would mix the batch or other dims; refuse it. */
function checkLastAxis(softmax: Node): void {
  // Before opset 13 the default axis is 1 (on the input coerced to 2-D); from 13 on it is -1.
  const axis = softmax.attrs.int('axis', (softmax.graph.opset('') ?? 13) >= 13 ? -1 : 1);
  const input = softmax.input(0);
  const rank = input?.shape?.length ?? (input?.producer?.opType === 'Gemm' ? 2 : undefined);
  const last = axis === -1 || (rank !== undefined && axis === rank - 1);
  if (!last) notAHead(`${softmax.describe()} normalizes over axis ${axis}, not the last (class) axis`);
}

function isPerClass(dims: number[], classes: number): boolean {
  return (dims.length === 1 && dims[0] === classes) || (dims.length === 2 && dims[0] === 1 && dims[1] === classes);
}

function setTensor(v: Value, tensor: ReturnType<typeof floatTensor>): void {
  v.graph.setInitializer(v, tensor);
  // Initializers that are also graph inputs (IR < 4) or that shape inference typed declare their dims: keep them true.
  if (v.type) v.setTensorType(DataType.FLOAT, tensorDims(tensor));
}

/** Always a change: the head's weights are new even when the class count stays. Graph input and output names are kept. */
export const replaceHeadPass: Pass<ReplaceHeadOptions, PassResult & ReplaceHeadResult> = {
  name: 'replace-head',
  run(model, options) {
    return { model, modified: true, ...replaceHead(model, options) };
  },
};
