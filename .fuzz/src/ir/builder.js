import { RegraftError } from '../errors.js';
import { DataType } from './dtype.js';
import { floatTensor, int64Tensor } from './tensor.js';
/**
 * Writes graphs like code: every method returns the output value(s), so
 * `const h = b.op('Gemm', [x, w, bias], { transB: 1 })` reads as the math it builds.
 * New nodes are appended (or inserted before `insertBefore`); call `graph.toposort()` after a rewrite.
 */
export class GraphBuilder {
    graph;
    /** When set, new nodes go before this node rather than at the end. */
    insertBefore;
    /** Prefix for node names, so the nodes of one pass are easy to find (`dropout/`, `grad/`). */
    namePrefix = '';
    /** Every node made by this builder, in order (tests and passes use it to report what they added). */
    created = [];
    constructor(graph) {
        this.graph = graph;
    }
    /** One node with one output; returns that output. */
    op(opType, inputs, attrs = {}, opts = {}) {
        const node = this.node(opType, inputs, attrs, { ...opts, outputs: opts.output !== undefined ? [opts.output] : 1 });
        return node.output(0);
    }
    /** One node with several outputs; returns them all (omitted ones as null when named ''). */
    ops(opType, inputs, attrs, outputs, opts = {}) {
        const node = this.node(opType, inputs, attrs, { ...opts, outputs });
        return node.outputs.map((v) => v);
    }
    node(opType, inputs, attrs = {}, opts = {}) {
        const name = this.namePrefix ? this.graph.uniqueNodeName(opType, `${this.namePrefix}${opts.name ?? opType}`) : opts.name;
        const node = this.graph.addNode(opType, inputs, attrs, { before: this.insertBefore, ...opts, name });
        this.created.push(node);
        return node;
    }
    /** A float32 initializer. */
    floatInit(name, data, dims) {
        return this.graph.addInitializer(floatTensor(name, data, dims)).setTensorType(DataType.FLOAT, dims);
    }
    /** An int64 initializer (shapes, axes). */
    int64Init(name, data, dims) {
        const d = dims ?? [data.length];
        return this.graph.addInitializer(int64Tensor(name, data, d)).setTensorType(DataType.INT64, d);
    }
    /** A float32 scalar constant, stored as an initializer (shared with earlier identical constants). */
    scalar(value, name = 'const') {
        return this.cached(`f:${value}`, () => this.floatInit(name, [value], []));
    }
    /** A 1-D int64 constant (axes, shapes), stored as an initializer (shared with earlier identical constants). */
    ints(values, name = 'ints') {
        return this.cached(`i:${values.join(',')}`, () => this.int64Init(name, values));
    }
    constants = new Map();
    cached(key, make) {
        const hit = this.constants.get(key);
        // A constant removed by cleanup since it was made must be made again.
        if (hit && this.graph.value(hit.name) === hit && hit.initializer)
            return hit;
        const v = make();
        this.constants.set(key, v);
        return v;
    }
    // Shorthands for the ops regraft emits most; each is exactly one node.
    add(a, b) { return this.op('Add', [a, b]); }
    sub(a, b) { return this.op('Sub', [a, b]); }
    mul(a, b) { return this.op('Mul', [a, b]); }
    div(a, b) { return this.op('Div', [a, b]); }
    neg(a) { return this.op('Neg', [a]); }
    identity(a, output) { return this.op('Identity', [a], {}, { output }); }
    /** ReduceSum over `axes` in the form the model's opset wants (axes input from opset 13 on, attribute before). */
    reduceSum(x, axes, keepdims) {
        const opset = this.requireStandardOpset();
        if (axes === undefined)
            return this.op('ReduceSum', [x], { keepdims: keepdims ? 1 : 0 });
        if (opset >= 13)
            return this.op('ReduceSum', [x, this.ints(axes, 'axes')], { keepdims: keepdims ? 1 : 0 });
        return this.op('ReduceSum', [x], { axes: [...axes], keepdims: keepdims ? 1 : 0 });
    }
    /** Unsqueeze at `axes` in the form the model's opset wants (axes input from opset 13 on, attribute before). */
    unsqueeze(x, axes, opts = {}) {
        return this.axesOp('Unsqueeze', x, axes, opts);
    }
    /** Squeeze at `axes` in the form the model's opset wants (axes input from opset 13 on, attribute before). */
    squeeze(x, axes, opts = {}) {
        return this.axesOp('Squeeze', x, axes, opts);
    }
    axesOp(opType, x, axes, opts) {
        if (this.requireStandardOpset() >= 13)
            return this.op(opType, [x, this.ints(axes, 'axes')], {}, opts);
        return this.op(opType, [x], { axes: [...axes] }, opts);
    }
    requireStandardOpset() {
        const v = this.graph.opset('');
        if (v === undefined)
            throw new RegraftError(`graph '${this.graph.name}' imports no ai.onnx opset; cannot add standard operators`);
        return v;
    }
}
