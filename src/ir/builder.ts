import { RegraftError } from '../errors.js';
import type { AttrValue } from './attributes.js';
import { DataType } from './dtype.js';
import type { Graph, NodeOptions } from './graph.js';
import type { Node } from './node.js';
import { floatTensor, int64Tensor, zerosFloatTensor } from './tensor.js';
import type { Value } from './value.js';

type Attrs = Record<string, AttrValue | undefined>;

/**
 * Writes graphs like code: every method returns the output value(s), so
 * `const h = b.op('Gemm', [x, w, bias], { transB: 1 })` reads as the math it builds.
 * New nodes are appended (or inserted before `insertBefore`); call `graph.toposort()` after a rewrite.
 */
export class GraphBuilder {
  /** When set, new nodes go before this node rather than at the end. */
  insertBefore: Node | undefined;
  /** Prefix for node names, so the nodes of one pass are easy to find (`dropout/`, `grad/`). */
  namePrefix = '';
  /** Every node made by this builder, in order (tests and passes use it to report what they added). */
  readonly created: Node[] = [];

  constructor(readonly graph: Graph) {}

  /** One node with one output; returns that output. */
  op(opType: string, inputs: readonly (Value | null | undefined)[], attrs: Attrs = {}, opts: Omit<NodeOptions, 'outputs'> & { output?: string } = {}): Value {
    const node = this.node(opType, inputs, attrs, { ...opts, outputs: opts.output !== undefined ? [opts.output] : 1 });
    return node.output(0);
  }

  /** One node with several outputs; returns them all (omitted ones as null when named ''). */
  ops(opType: string, inputs: readonly (Value | null | undefined)[], attrs: Attrs, outputs: number | readonly string[], opts: Omit<NodeOptions, 'outputs'> = {}): Value[] {
    const node = this.node(opType, inputs, attrs, { ...opts, outputs });
    return node.outputs.map((v) => v as Value);
  }

  node(opType: string, inputs: readonly (Value | null | undefined)[], attrs: Attrs = {}, opts: NodeOptions = {}): Node {
    const name = this.namePrefix ? this.graph.uniqueNodeName(opType, `${this.namePrefix}${opts.name ?? opType}`) : opts.name;
    const node = this.graph.addNode(opType, inputs, attrs, { before: this.insertBefore, ...opts, name });
    this.created.push(node);
    return node;
  }

  /** A float32 initializer. */
  floatInit(name: string, data: Float32Array | number[], dims: readonly number[]): Value {
    return this.graph.addInitializer(floatTensor(name, data, dims)).setTensorType(DataType.FLOAT, dims);
  }

  /** A float initializer of zeros (optimizer state). */
  zerosInit(name: string, dims: readonly number[]): Value {
    return this.graph.addInitializer(zerosFloatTensor(name, dims)).setTensorType(DataType.FLOAT, dims);
  }

  /** An int64 initializer (shapes, axes). */
  int64Init(name: string, data: readonly (number | bigint)[] | BigInt64Array, dims?: readonly number[]): Value {
    const d = dims ?? [data.length];
    return this.graph.addInitializer(int64Tensor(name, data, d)).setTensorType(DataType.INT64, d);
  }

  /** A float32 scalar constant, stored as an initializer (shared with earlier identical constants). */
  scalar(value: number, name = 'const'): Value {
    return this.cached(`f:${value}`, () => this.floatInit(name, [value], []));
  }

  /** A 1-D int64 constant (axes, shapes), stored as an initializer (shared with earlier identical constants). */
  ints(values: readonly number[], name = 'ints'): Value {
    return this.cached(`i:${values.join(',')}`, () => this.int64Init(name, values));
  }

  private readonly constants = new Map<string, Value>();

  private cached(key: string, make: () => Value): Value {
    const hit = this.constants.get(key);
    // A constant removed by cleanup since it was made must be made again.
    if (hit && this.graph.value(hit.name) === hit && hit.initializer) return hit;
    const v = make();
    this.constants.set(key, v);
    return v;
  }

  // Shorthands for the ops regraft emits most; each is exactly one node.
  add(a: Value, b: Value): Value { return this.op('Add', [a, b]); }
  sub(a: Value, b: Value): Value { return this.op('Sub', [a, b]); }
  mul(a: Value, b: Value): Value { return this.op('Mul', [a, b]); }
  div(a: Value, b: Value): Value { return this.op('Div', [a, b]); }
  neg(a: Value): Value { return this.op('Neg', [a]); }
  identity(a: Value, output?: string): Value { return this.op('Identity', [a], {}, { output }); }

  /**
   * How many elements `x` holds, as a float scalar: the product of its dims rather than Cast(Size(x)), because
   * Size's schemas from opset 19 on have no kernel in onnxruntime's CUDA provider (it registers Size up to 13).
   * `shapeOf` lets a caller that already has x's Shape node (the backward driver's cache) reuse it.
   */
  elementCount(x: Value, shapeOf: (v: Value) => Value = (v) => this.op('Shape', [v])): Value {
    if (x.shape?.length === 0) return this.scalar(1, 'one');
    // A scalar whatever x's rank, which shape inference cannot tell when that rank is unknown.
    return this.op('ReduceProd', [this.op('Cast', [shapeOf(x)], { to: DataType.FLOAT })], { keepdims: 0 }).setTensorType(DataType.FLOAT, []);
  }

  /** ReduceSum over `axes` in the form the model's opset wants (axes input from opset 13 on, attribute before). */
  reduceSum(x: Value, axes: readonly number[] | undefined, keepdims: boolean): Value {
    const opset = this.requireStandardOpset();
    if (axes === undefined) return this.op('ReduceSum', [x], { keepdims: keepdims ? 1 : 0 });
    if (opset >= 13) return this.op('ReduceSum', [x, this.ints(axes, 'axes')], { keepdims: keepdims ? 1 : 0 });
    return this.op('ReduceSum', [x], { axes: [...axes], keepdims: keepdims ? 1 : 0 });
  }

  /** Unsqueeze at `axes` in the form the model's opset wants (axes input from opset 13 on, attribute before). */
  unsqueeze(x: Value, axes: readonly number[], opts: { name?: string; output?: string } = {}): Value {
    return this.axesOp('Unsqueeze', x, axes, opts);
  }

  /** Squeeze at `axes` in the form the model's opset wants (axes input from opset 13 on, attribute before). */
  squeeze(x: Value, axes: readonly number[], opts: { name?: string; output?: string } = {}): Value {
    return this.axesOp('Squeeze', x, axes, opts);
  }

  private axesOp(opType: 'Squeeze' | 'Unsqueeze', x: Value, axes: readonly number[], opts: { name?: string; output?: string }): Value {
    if (this.requireStandardOpset() >= 13) return this.op(opType, [x, this.ints(axes, 'axes')], {}, opts);
    return this.op(opType, [x], { axes: [...axes] }, opts);
  }

  requireStandardOpset(): number {
    const v = this.graph.opset('');
    if (v === undefined) throw new RegraftError(`graph '${this.graph.name}' imports no ai.onnx opset; cannot add standard operators`);
    return v;
  }
}
