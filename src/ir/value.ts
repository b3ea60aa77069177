import { create } from '@bufbuild/protobuf';
import {
  TensorShapeProtoSchema,
  TensorShapeProto_DimensionSchema,
  TypeProtoSchema,
  TypeProto_TensorSchema,
  type TensorProto,
  type TypeProto,
  type ValueInfoProto,
} from 'onnx-buf';
import { RegraftError } from '../errors.js';
import type { Graph } from './graph.js';
import type { Node } from './node.js';

/** A dimension: a fixed size, a symbolic name (`N`, `batch`) or unknown (null). */
export type Dim = number | string | null;

/** One consumer of a value: `node.inputs[index] === value`. */
export interface Use {
  readonly node: Node;
  readonly index: number;
}

/**
 * A tensor flowing through the graph. A value has at most one producer (a node output) and any number of uses;
 * graph inputs and initializers have no producer. Values compare by identity; the name is only for ONNX.
 */
export class Value {
  /** Kept from the model file so that `doc_string`, `metadata_props` and unknown fields survive export. */
  info: ValueInfoProto | undefined;
  /** The ONNX type (element type and shape), if known. */
  type: TypeProto | undefined;
  /** The stored tensor, when this value is an initializer. */
  initializer: TensorProto | undefined;
  producer: Node | null = null;
  producerIndex = -1;
  private readonly _uses: Use[] = [];
  /** Nodes whose subgraphs (If/Loop/Scan bodies) read this value by name from the outer scope. */
  readonly implicitUses = new Set<Node>();

  constructor(readonly graph: Graph, private _name: string) {}

  get name(): string {
    return this._name;
  }

  /** Renames through the graph, which keeps names unique; refused for values that subgraphs read by name. */
  rename(name: string): void {
    if (name === this._name) return;
    if (this.implicitUses.size > 0) {
      throw new RegraftError(`value '${this._name}': cannot rename, subgraphs of ${[...this.implicitUses].map((n) => n.describe()).join(', ')} read it by name`);
    }
    this.graph.claimValueName(name, this._name);
    this._name = name;
  }

  get uses(): readonly Use[] {
    return this._uses;
  }

  /** @internal edges are changed only through Node.setInput / Value.replaceAllUsesWith. */
  _addUse(node: Node, index: number): void {
    this._uses.push({ node, index });
  }

  /** @internal */
  _removeUse(node: Node, index: number): void {
    const i = this._uses.findIndex((u) => u.node === node && u.index === index);
    if (i >= 0) this._uses.splice(i, 1);
  }

  get isGraphInput(): boolean {
    return this.graph.inputs.includes(this);
  }

  get isGraphOutput(): boolean {
    return this.graph.outputs.includes(this);
  }

  /** Whether anything observes this value: a node, a subgraph reading it by name, or the graph's outputs. */
  get isRead(): boolean {
    return this.uses.length > 0 || this.implicitUses.size > 0 || this.isGraphOutput;
  }

  get isInitializer(): boolean {
    return this.initializer !== undefined;
  }

  /**
   * Points every node that reads this value at `other` instead. Graph output slots keep this value: rewiring
   * never renames a graph output (use Graph.setOutput where that is really meant).
   */
  replaceAllUsesWith(other: Value): void {
    if (other === this) return;
    for (const { node, index } of [...this._uses]) node.setInput(index, other);
  }

  /** The element type (TensorProto.DataType), or undefined when unknown. */
  get elemType(): number | undefined {
    return this.type?.value.case === 'tensorType' ? this.type.value.value.elemType : undefined;
  }

  /** The shape, or undefined when the rank is unknown. */
  get shape(): Dim[] | undefined {
    if (this.type?.value.case !== 'tensorType') return undefined;
    const shape = this.type.value.value.shape;
    if (!shape) return undefined;
    return shape.dim.map((d) => (d.value.case === 'dimValue' ? Number(d.value.value) : d.value.case === 'dimParam' ? d.value.value : null));
  }

  setTensorType(elemType: number, shape?: readonly Dim[]): this {
    this.type = tensorType(elemType, shape);
    return this;
  }

  toString(): string {
    return `Value(${this.name})`;
  }
}

export function tensorType(elemType: number, shape?: readonly Dim[]): TypeProto {
  const tt = create(TypeProto_TensorSchema, { elemType });
  if (shape) {
    tt.shape = create(TensorShapeProtoSchema, {
      dim: shape.map((d) =>
        create(TensorShapeProto_DimensionSchema, {
          value: typeof d === 'number' ? { case: 'dimValue', value: BigInt(d) } : typeof d === 'string' ? { case: 'dimParam', value: d } : { case: undefined },
        }),
      ),
    });
  }
  return create(TypeProtoSchema, { value: { case: 'tensorType', value: tt } });
}
