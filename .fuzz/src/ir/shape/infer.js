import { constantInts } from '../constant.js';
import { tensorDims } from '../tensor.js';
import { SHAPE_RULES } from './rules.js';
/**
 * Op type -> shape rule, from a registry list. A second rule for an op is an error naming the op and both
 * families: with a map that silently kept the later one, the order of the list would decide which rule runs.
 */
export function buildShapeRuleMap(families) {
    const rules = new Map();
    const familyOf = new Map();
    for (const { family, rules: entries } of families) {
        for (const { opTypes, rule } of entries) {
            for (const op of opTypes) {
                const first = familyOf.get(op);
                if (first !== undefined)
                    throw new Error(`two shape rules registered for ${op}: one in family '${first}', one in '${family}'`);
                familyOf.set(op, family);
                rules.set(op, rule);
            }
        }
    }
    return rules;
}
const RULES = buildShapeRuleMap(SHAPE_RULES);
/** One context per inference run: dims computed from Shape are only trusted for the graph as it is now. */
function makeContext(knownDims) {
    return {
        dims: (v) => (v ? (knownDims.get(v) ?? constantInts(v)) : undefined),
        shape: (v) => v?.shape,
        elemType: (v) => v?.elemType,
        constInts: constantInts,
    };
}
/** What `node`'s rule infers for its outputs, or undefined for an op without a rule (or a rule that fails on it). */
function inferNode(node, ctx) {
    const rule = RULES.get(node.opType);
    if (!rule || (node.domain !== '' && node.domain !== 'ai.onnx'))
        return undefined;
    try {
        return rule(node, ctx);
    }
    catch {
        return undefined; // a malformed attribute is reported by the validator or the runtime, not here
    }
}
/**
 * Static type and shape inference for the ops regraft trains, in topological order. It fills in what is unknown
 * and never overwrites a type the model declares. Unknown ops leave their outputs unknown; the gradient rules
 * that need a shape then fall back to run-time shapes or name what is missing.
 */
export function inferShapes(graph) {
    for (const v of graph.initializers) {
        if (!v.type && v.initializer)
            v.setTensorType(v.initializer.dataType, tensorDims(v.initializer));
    }
    const knownDims = new Map();
    const ctx = makeContext(knownDims);
    for (const node of graph.nodes) {
        const inferred = inferNode(node, ctx);
        if (!inferred)
            continue;
        node.outputs.forEach((out, i) => {
            const t = inferred[i];
            if (out && t?.dims)
                knownDims.set(out, t.dims);
            if (!out || !t || out.shape !== undefined)
                return;
            const elemType = out.elemType ?? t.elemType;
            if (elemType === undefined)
                return;
            out.setTensorType(elemType, t.shape);
        });
    }
}
/**
 * The same inference over `nodes` (in order), without writing into the graph: for checks of nodes just built,
 * such as the backward driver's gradient shapes. `known` holds what earlier calls inferred, so a chain of calls
 * sees its own results; a value not in it is read as the graph declares it.
 */
export function inferShapesOf(nodes, known) {
    const ctx = {
        dims: (v) => (v ? (known.get(v)?.dims ?? constantInts(v)) : undefined),
        shape: (v) => (v ? (v.shape ?? known.get(v)?.shape) : undefined),
        elemType: (v) => (v ? (v.elemType ?? known.get(v)?.elemType) : undefined),
        constInts: constantInts,
    };
    for (const node of nodes) {
        const inferred = inferNode(node, ctx);
        node.outputs.forEach((out, i) => {
            const t = inferred?.[i];
            if (out && t)
                known.set(out, t);
        });
    }
}
