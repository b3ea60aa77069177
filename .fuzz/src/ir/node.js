import { RegraftError } from '../errors.js';
import { AttributeReader, makeAttribute } from './attributes.js';
/**
 * One operator application. Its outputs are fixed when it is made; its inputs change only through `setInput`,
 * which keeps the use lists of the values on both sides in step. An omitted optional input or output is `null`.
 */
export class Node {
    graph;
    opType;
    domain;
    _name;
    /** Kept from the model file so that doc_string, metadata_props, device configurations and unknown fields survive. */
    proto;
    attributes;
    _inputs = [];
    /** Set by the graph when the node is created. */
    outputs = [];
    constructor(graph, opType, domain, _name, attributes) {
        this.graph = graph;
        this.opType = opType;
        this.domain = domain;
        this._name = _name;
        this.attributes = attributes;
    }
    get name() {
        return this._name;
    }
    get inputs() {
        return this._inputs;
    }
    /** The value in input slot `i` (undefined when the slot is absent or omitted). */
    input(i) {
        return this._inputs[i] ?? undefined;
    }
    /** The value in output slot `i`; a missing required output is an error naming the node. */
    output(i = 0) {
        const v = this.outputs[i];
        if (!v)
            throw new RegraftError(`${this.describe()}: output ${i} is absent`);
        return v;
    }
    /** Sets input slot `index` (appending if it is the next free slot), moving the use from the old value to the new. */
    setInput(index, value) {
        if (index > this._inputs.length) {
            throw new RegraftError(`${this.describe()}: cannot set input ${index}, the node has ${this._inputs.length} inputs`);
        }
        if (value && value.graph !== this.graph) {
            throw new RegraftError(`${this.describe()}: value '${value.name}' belongs to another graph`);
        }
        const old = this._inputs[index];
        if (old === value)
            return;
        old?._removeUse(this, index);
        this._inputs[index] = value;
        value?._addUse(this, index);
    }
    /** @internal used by the graph when it removes the node */
    _detachInputs() {
        this._inputs.forEach((v, i) => v?._removeUse(this, i));
        this._inputs.length = 0;
    }
    setAttribute(name, value) {
        this.attributes.set(name, makeAttribute(name, value));
    }
    get attrs() {
        return new AttributeReader(this.attributes, this.describe());
    }
    /** How errors name this node: `Relu node 'relu_1'` (or its first output when the node has no name). */
    describe() {
        const label = this._name || (this.outputs[0] ? `producing '${this.outputs[0].name}'` : '(unnamed)');
        return this._name ? `${this.opType} node '${label}'` : `${this.opType} node ${label}`;
    }
    /** @internal renaming goes through the graph so node names stay unique */
    _setName(name) {
        this._name = name;
    }
    toString() {
        return this.describe();
    }
}
