import { create } from '@bufbuild/protobuf';
import { TensorShapeProtoSchema, TensorShapeProto_DimensionSchema, TypeProtoSchema, TypeProto_TensorSchema, } from 'onnx-buf';
import { RegraftError } from '../errors.js';
/**
 * A tensor flowing through the graph. A value has at most one producer (a node output) and any number of uses;
 * graph inputs and initializers have no producer. Values compare by identity; the name is only for ONNX.
 */
export class Value {
    graph;
    _name;
    /** Kept from the model file so that `doc_string`, `metadata_props` and unknown fields survive export. */
    info;
    /** The ONNX type (element type and shape), if known. */
    type;
    /** The stored tensor, when this value is an initializer. */
    initializer;
    producer = null;
    producerIndex = -1;
    _uses = [];
    /** Nodes whose subgraphs (If/Loop/Scan bodies) read this value by name from the outer scope. */
    implicitUses = new Set();
    constructor(graph, _name) {
        this.graph = graph;
        this._name = _name;
    }
    get name() {
        return this._name;
    }
    /** Renames through the graph, which keeps names unique; refused for values that subgraphs read by name. */
    rename(name) {
        if (name === this._name)
            return;
        if (this.implicitUses.size > 0) {
            throw new RegraftError(`value '${this._name}': cannot rename, subgraphs of ${[...this.implicitUses].map((n) => n.describe()).join(', ')} read it by name`);
        }
        this.graph.claimValueName(name, this._name);
        this._name = name;
    }
    get uses() {
        return this._uses;
    }
    /** @internal edges are changed only through Node.setInput / Value.replaceAllUsesWith. */
    _addUse(node, index) {
        this._uses.push({ node, index });
    }
    /** @internal */
    _removeUse(node, index) {
        const i = this._uses.findIndex((u) => u.node === node && u.index === index);
        if (i >= 0)
            this._uses.splice(i, 1);
    }
    get isGraphInput() {
        return this.graph.inputs.includes(this);
    }
    get isGraphOutput() {
        return this.graph.outputs.includes(this);
    }
    /** Whether anything observes this value: a node, a subgraph reading it by name, or the graph's outputs. */
    get isRead() {
        return this.uses.length > 0 || this.implicitUses.size > 0 || this.isGraphOutput;
    }
    get isInitializer() {
        return this.initializer !== undefined;
    }
    /**
     * Points every node that reads this value at `other` instead. Graph output slots keep this value: rewiring
     * never renames a graph output (use Graph.setOutput where that is really meant).
     */
    replaceAllUsesWith(other) {
        if (other === this)
            return;
        for (const { node, index } of [...this._uses])
            node.setInput(index, other);
    }
    /** The element type (TensorProto.DataType), or undefined when unknown. */
    get elemType() {
        return this.type?.value.case === 'tensorType' ? this.type.value.value.elemType : undefined;
    }
    /** The shape, or undefined when the rank is unknown. */
    get shape() {
        if (this.type?.value.case !== 'tensorType')
            return undefined;
        const shape = this.type.value.value.shape;
        if (!shape)
            return undefined;
        return shape.dim.map((d) => (d.value.case === 'dimValue' ? Number(d.value.value) : d.value.case === 'dimParam' ? d.value.value : null));
    }
    setTensorType(elemType, shape) {
        this.type = tensorType(elemType, shape);
        return this;
    }
    toString() {
        return `Value(${this.name})`;
    }
}
export function tensorType(elemType, shape) {
    const tt = create(TypeProto_TensorSchema, { elemType });
    if (shape) {
        tt.shape = create(TensorShapeProtoSchema, {
            dim: shape.map((d) => create(TensorShapeProto_DimensionSchema, {
                value: typeof d === 'number' ? { case: 'dimValue', value: BigInt(d) } : typeof d === 'string' ? { case: 'dimParam', value: d } : { case: undefined },
            })),
        });
    }
    return create(TypeProtoSchema, { value: { case: 'tensorType', value: tt } });
}
