import type { GraphProto, TensorProto, TypeProto, ValueInfoProto } from 'onnx-buf';
import { RegraftError } from '../errors.js';
import { makeAttribute, type AttributeProto, type AttrValue } from './attributes.js';
import { eliminateDeadNodes, type CleanupOptions, type CleanupReport } from './cleanup.js';
import { Node } from './node.js';
import { toposort } from './toposort.js';
import { Value } from './value.js';

export interface NodeOptions {
  /** Output count, or explicit output names (an empty string makes an omitted optional output). Default 1. */
  outputs?: number | readonly string[];
  /** Node name; made unique. Default `node_<Op>_<N>`. */
  name?: string;
  /** Operator domain; '' (the default) is the standard ai.onnx domain. */
  domain?: string;
  /** Insert before this node instead of appending (keeps the node list readable; toposort fixes order anyway). */
  before?: Node;
}

/**
 * The main graph of a model. Names are unique and handed out by the graph (`val_N`, `node_<Op>_N`), so passes never
 * have to invent names. Subgraphs of If/Loop/Scan stay as they were in the file (kept intact, not rewritten); the
 * outer values they read are tracked as implicit uses so that dead-node removal and renaming respect them.
 */
export class Graph {
  /** The GraphProto this graph was read from: fields the IR does not model (doc_string, sparse initializers, ...) come from it. */
  proto: GraphProto | undefined;
  name: string;
  private readonly _nodes: Node[] = [];
  private readonly _inputs: Value[] = [];
  private readonly _outputs: Value[] = [];
  private readonly _initializers: Value[] = [];
  /** ValueInfoProtos per role, kept so export can reuse them unchanged. */
  readonly inputInfo = new Map<Value, ValueInfoProto>();
  readonly outputInfo = new Map<Value, ValueInfoProto>();
  /** Values listed in `value_info`, in file order (new entries are appended). */
  readonly valueInfo = new Map<Value, ValueInfoProto | undefined>();
  private readonly valuesByName = new Map<string, Value>();
  private readonly nodeNames = new Set<string>();
  /** Names defined inside subgraphs: new names must not shadow them. */
  readonly reservedNames = new Set<string>();
  private valueCounter = 0;
  private nodeCounter = 0;

  constructor(
    name: string,
    /** The opset imports of the model, shared with it: domain ('' for ai.onnx) -> version. */
    readonly opsets: Map<string, number>,
  ) {
    this.name = name;
  }

  get nodes(): readonly Node[] {
    return this._nodes;
  }

  get inputs(): readonly Value[] {
    return this._inputs;
  }

  get outputs(): readonly Value[] {
    return this._outputs;
  }

  get initializers(): readonly Value[] {
    return this._initializers;
  }

  /** The opset version of a domain ('' or 'ai.onnx' for the standard one), or undefined if not imported. */
  opset(domain = ''): number | undefined {
    return this.opsets.get(domain === 'ai.onnx' ? '' : domain);
  }

  // ---- names ---------------------------------------------------------------------------------------------------

  value(name: string): Value | undefined {
    return this.valuesByName.get(name);
  }

  /** The value with this name; an error naming it when there is none. */
  requireValue(name: string, what = 'value'): Value {
    const v = this.valuesByName.get(name);
    if (!v) throw new RegraftError(`${what} '${name}' not found in graph '${this.name}'; check the name with 'regraft inspect'`);
    return v;
  }

  get values(): IterableIterator<Value> {
    return this.valuesByName.values();
  }

  isNameTaken(name: string): boolean {
    return this.valuesByName.has(name) || this.reservedNames.has(name);
  }

  /** `base` if free, else `base_1`, `base_2`, ... */
  uniqueValueName(base?: string): string {
    if (base !== undefined && base !== '' && !this.isNameTaken(base)) return base;
    const stem = base || 'val';
    for (;;) {
      const candidate = `${stem}_${this.valueCounter++}`;
      if (!this.isNameTaken(candidate)) return candidate;
    }
  }

  uniqueNodeName(opType: string, base?: string): string {
    if (base && !this.nodeNames.has(base)) return base;
    const stem = base || `node_${opType}`;
    for (;;) {
      const candidate = `${stem}_${this.nodeCounter++}`;
      if (!this.nodeNames.has(candidate)) return candidate;
    }
  }

  /** @internal Value.rename goes through here so names stay unique. */
  claimValueName(name: string, previous?: string): void {
    if (this.isNameTaken(name)) throw new RegraftError(`value name '${name}' is already used in graph '${this.name}'`);
    if (previous !== undefined) {
      const v = this.valuesByName.get(previous);
      this.valuesByName.delete(previous);
      if (v) this.valuesByName.set(name, v);
    }
  }

  /** @internal Creates a value with exactly this name (import) or a fresh unique one. */
  _newValue(name: string | undefined, exact = false): Value {
    const finalName = exact && name !== undefined ? name : this.uniqueValueName(name);
    if (exact && this.valuesByName.has(finalName)) throw new RegraftError(`value name '${finalName}' is defined twice in graph '${this.name}'`);
    const v = new Value(this, finalName);
    this.valuesByName.set(finalName, v);
    return v;
  }

  /** @internal */
  _forgetValue(v: Value): void {
    if (this.valuesByName.get(v.name) === v) this.valuesByName.delete(v.name);
    this.valueInfo.delete(v);
  }

  // ---- graph inputs, outputs, initializers ---------------------------------------------------------------------

  addInput(name: string, type?: TypeProto, opts: { exactName?: boolean } = {}): Value {
    const v = this._newValue(name, opts.exactName ?? true);
    v.type = type;
    this._inputs.push(v);
    return v;
  }

  /** Adds an initializer value; its tensor is renamed to the value's (unique) name. */
  addInitializer(tensor: TensorProto, opts: { exactName?: boolean } = {}): Value {
    const v = this._newValue(tensor.name, opts.exactName ?? false);
    if (tensor.name !== v.name) tensor.name = v.name;
    v.initializer = tensor;
    this._initializers.push(v);
    return v;
  }

  /** Makes an existing value an initializer too (a graph input with a stored default, as in IR < 4 models). */
  setInitializer(v: Value, tensor: TensorProto): void {
    if (tensor.name !== v.name) throw new RegraftError(`initializer '${tensor.name}' must be named like its value '${v.name}'`);
    if (!v.initializer) this._initializers.push(v);
    v.initializer = tensor;
  }

  /** Removes an initializer's tensor; the value itself goes too unless it is a graph input or still used. */
  removeInitializer(v: Value): void {
    const i = this._initializers.indexOf(v);
    if (i < 0) return;
    this._initializers.splice(i, 1);
    v.initializer = undefined;
    if (!v.isGraphInput && v.uses.length === 0 && !v.isGraphOutput) this._forgetValue(v);
  }

  /**
   * Lists an existing value (typically an initializer) as a graph input too, so callers can feed it while its
   * stored tensor stays the default: how a compiled training step takes its parameters.
   */
  exposeAsInput(v: Value): void {
    if (v.graph !== this) throw new RegraftError(`value '${v.name}' belongs to another graph`);
    if (v.producer) throw new RegraftError(`value '${v.name}' is computed by ${v.producer.describe()}; only initializers can become inputs`);
    if (!this._inputs.includes(v)) this._inputs.push(v);
  }

  /**
   * Turns an initializer into a plain graph input and returns its tensor. onnxruntime-node silently ignores feeds
   * for initializers listed as inputs (it only feeds `session.inputNames`), so whatever must be fed from JS has to be
   * an input without a stored tensor in the session's model.
   */
  initializerToInput(v: Value): TensorProto {
    const t = v.initializer;
    if (!t) throw new RegraftError(`value '${v.name}' is not an initializer`);
    const i = this._initializers.indexOf(v);
    if (i >= 0) this._initializers.splice(i, 1);
    v.initializer = undefined;
    if (!v.type) v.setTensorType(t.dataType, t.dims.map(Number));
    if (!this._inputs.includes(v)) this._inputs.push(v);
    return t;
  }

  /** Puts the graph inputs in this order (for ops that bind a body's inputs by position: Scan, Loop). */
  setInputOrder(order: readonly Value[]): void {
    const same = order.length === this._inputs.length && new Set(order).size === order.length && order.every((v) => this._inputs.includes(v));
    if (!same) throw new RegraftError(`setInputOrder: the new order of graph '${this.name}' must hold each of its inputs once`);
    this._inputs.splice(0, this._inputs.length, ...order);
  }

  addOutput(v: Value, info?: ValueInfoProto): void {
    this._outputs.push(v);
    if (info) this.outputInfo.set(v, info);
  }

  /** Removes a graph input that nothing reads any more (labels, lr once a training graph is stripped). */
  removeInput(v: Value): void {
    if (v.uses.length > 0) {
      throw new RegraftError(`graph input '${v.name}' is still read by ${v.uses.map((u) => u.node.describe()).join(', ')}`);
    }
    const i = this._inputs.indexOf(v);
    if (i < 0) return;
    this._inputs.splice(i, 1);
    this.inputInfo.delete(v);
    if (!v.initializer && !v.isGraphOutput) this._forgetValue(v);
  }

  /** Removes graph output slot(s) holding `v`; the value stays as long as something uses it. */
  removeOutput(v: Value): void {
    for (let i = this._outputs.length - 1; i >= 0; i--) if (this._outputs[i] === v) this._outputs.splice(i, 1);
    this.outputInfo.delete(v);
  }

  /** Replaces graph output slot `index`: used by passes that must keep the output's name but change its producer. */
  setOutput(index: number, v: Value): void {
    if (index < 0 || index >= this._outputs.length) throw new RegraftError(`graph '${this.name}' has no output ${index}`);
    const old = this._outputs[index];
    this._outputs[index] = v;
    const info = this.outputInfo.get(old);
    if (info && !this._outputs.includes(old)) this.outputInfo.delete(old);
    if (info && !this.outputInfo.has(v)) this.outputInfo.set(v, info);
  }

  // ---- nodes -------------------------------------------------------------------------------------------------

  /** Creates a node; its outputs are new values with unique names. Returns the node. */
  addNode(
    opType: string,
    inputs: readonly (Value | null | undefined)[],
    attributes: Record<string, AttrValue | undefined> | Map<string, AttributeProto> = {},
    opts: NodeOptions = {},
  ): Node {
    const attrMap =
      attributes instanceof Map
        ? attributes
        : new Map(
            Object.entries(attributes)
              .filter((e): e is [string, AttrValue] => e[1] !== undefined)
              .map(([k, v]) => [k, makeAttribute(k, v)]),
          );
    const name = this.uniqueNodeName(opType, opts.name);
    this.nodeNames.add(name);
    const node = new Node(this, opType, opts.domain ?? '', name, attrMap);
    inputs.forEach((v, i) => node.setInput(i, v ?? null));
    const outSpec = opts.outputs ?? 1;
    const outNames = typeof outSpec === 'number' ? Array.from({ length: outSpec }, () => undefined) : outSpec;
    node.outputs = outNames.map((n, i) => {
      if (n === '') return null;
      const v = this._newValue(n);
      v.producer = node;
      v.producerIndex = i;
      return v;
    });
    this.insertNode(node, opts.before);
    return node;
  }

  /** @internal import: a node whose name and output names come from the file, as they are. */
  _importNode(opType: string, domain: string, name: string, attributes: Map<string, AttributeProto>, outputs: readonly string[]): Node {
    if (name) this.nodeNames.add(name);
    const node = new Node(this, opType, domain, name, attributes);
    node.outputs = outputs.map((n, i) => {
      if (n === '') return null;
      const v = this._newValue(n, true);
      v.producer = node;
      v.producerIndex = i;
      return v;
    });
    this._nodes.push(node);
    return node;
  }

  private insertNode(node: Node, before: Node | undefined): void {
    if (before) {
      const i = this._nodes.indexOf(before);
      if (i < 0) throw new RegraftError(`${before.describe()} is not in graph '${this.name}'`);
      this._nodes.splice(i, 0, node);
    } else {
      this._nodes.push(node);
    }
  }

  /** Removes a node none of whose outputs is used or is a graph output; refused otherwise. */
  removeNode(node: Node): void {
    for (const out of node.outputs) {
      if (!out) continue;
      if (out.uses.length > 0) {
        throw new RegraftError(`cannot remove ${node.describe()}: output '${out.name}' is still read by ${out.uses.map((u) => u.node.describe()).join(', ')}`);
      }
      if (out.isGraphOutput) throw new RegraftError(`cannot remove ${node.describe()}: output '${out.name}' is a graph output`);
    }
    const i = this._nodes.indexOf(node);
    if (i < 0) throw new RegraftError(`${node.describe()} is not in graph '${this.name}'`);
    this._nodes.splice(i, 1);
    node._detachInputs();
    for (const v of this.values) v.implicitUses.delete(node);
    for (const out of node.outputs) if (out) this._forgetValue(out);
    this.nodeNames.delete(node.name);
  }

  /**
   * Replaces `node` by the same node (op, domain, name, inputs, file proto) with other outputs and, optionally,
   * other attributes: how a node gains or loses an optional output (Dropout's mask, MaxPool's indices,
   * BatchNormalization's running statistics), since a node's outputs are fixed when it is made. In `outputs`, an
   * output Value of `node` is carried over as it is (its readers, graph output slots, type and value_info stay); a
   * string makes a new value with that name (made unique); null leaves the slot empty. Outputs of `node` that are
   * not carried over must be unread and not graph outputs.
   */
  rebuildNode(node: Node, opts: { outputs: readonly (Value | string | null)[]; attributes?: ReadonlyMap<string, AttributeProto> }): Node {
    const position = this._nodes.indexOf(node);
    if (position < 0) throw new RegraftError(`${node.describe()} is not in graph '${this.name}'`);
    for (const spec of opts.outputs) {
      if (spec && typeof spec !== 'string' && spec.producer !== node) throw new RegraftError(`value '${spec.name}' is not an output of ${node.describe()}`);
    }
    for (const out of node.outputs) {
      if (!out || opts.outputs.includes(out)) continue;
      if (out.isRead) {
        throw new RegraftError(`cannot rebuild ${node.describe()} without output '${out.name}': it is still read`);
      }
    }
    const rebuilt = new Node(this, node.opType, node.domain, node.name, new Map(opts.attributes ?? node.attributes));
    rebuilt.proto = node.proto;
    node.inputs.forEach((v, i) => rebuilt.setInput(i, v));
    for (const v of this.values) if (v.implicitUses.delete(node)) v.implicitUses.add(rebuilt);
    const dropped = node.outputs.filter((o): o is Value => !!o && !opts.outputs.includes(o));
    node._detachInputs();
    dropped.forEach((v) => this._forgetValue(v));
    rebuilt.outputs = opts.outputs.map((spec, i) => {
      if (spec === null) return null;
      const v = typeof spec === 'string' ? this._newValue(spec) : spec;
      v.producer = rebuilt;
      v.producerIndex = i;
      return v;
    });
    this._nodes[position] = rebuilt;
    return rebuilt;
  }

  /** @internal toposort reorders in place */
  _setNodeOrder(order: Node[]): void {
    this._nodes.splice(0, this._nodes.length, ...order);
  }

  /** Nodes in a valid execution order, keeping the current order wherever it is already valid. */
  toposort(): this {
    toposort(this);
    return this;
  }

  /** Removes nodes (and, by default, initializers) that no graph output depends on. */
  cleanup(opts?: CleanupOptions): CleanupReport {
    return eliminateDeadNodes(this, opts);
  }
}
