/**
 * Lossless ONNX (de)serialization on top of protobuf-es: `encodeModel(decodeModel(bytes))` gives back the same
 * bytes, fields unknown to the ONNX 1.20 schema included (protobuf-es keeps and writes them). Every failure is a
 * one-line RegraftError that names the source and says what to do.
 */
import { fromBinary, isFieldSet, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { RegraftError, describeError } from '../errors.js';
import { graphNesting } from './walk.js';
import { locateWireProblem } from './wire-diagnose.js';
/**
 * How many levels of subgraphs (If/Loop/Scan bodies, or any graph attribute) regraft accepts below the main graph.
 * Real models use a handful; the limit exists so that hostile files cannot exhaust the stack of the decoder or of
 * the recursive passes that walk graphs.
 */
export const MAX_SUBGRAPH_DEPTH = 64;
/**
 * protobuf-es's own nesting guard, in messages. Each subgraph level costs three messages
 * (GraphProto -> NodeProto -> AttributeProto), plus the model and main graph, plus slack for nested types
 * (TypeProto sequences/maps) and tensors inside the deepest graph. A file nesting deeper than this is refused by
 * the decoder before {@link MAX_SUBGRAPH_DEPTH} is checked, which keeps 1000-deep files cheap to refuse.
 */
const DECODE_RECURSION_LIMIT = 2 + 3 * MAX_SUBGRAPH_DEPTH + 48;
/**
 * Parses an ONNX model. `source` names the bytes in error messages (a file path, or e.g. "<memory>").
 * raw_data fields are views into `bytes` (no copy), so `bytes` must not be modified while the model is in use.
 */
export function decodeModel(bytes, source) {
    if (bytes.byteLength === 0) {
        throw new RegraftError(`${source}: not an ONNX model (the file is empty); pass a .onnx file`);
    }
    let model;
    try {
        model = fromBinary(ModelProtoSchema, bytes, { recursionLimit: DECODE_RECURSION_LIMIT });
    }
    catch (err) {
        const why = describeError(err);
        if (why.includes('maximum recursion depth'))
            throw tooDeep(source);
        const problem = locateWireProblem(ModelProtoSchema, bytes, DECODE_RECURSION_LIMIT);
        const where = problem === undefined ? why : `at byte ${problem.offset}: ${problem.reason}`;
        throw new RegraftError(`${source}: not an ONNX model (protobuf decode failed ${oneLine(where)}); pass a .onnx file`);
    }
    // Protobuf is permissive: text or random bytes sometimes parse as a message made only of unknown fields.
    // Every ONNX model has ir_version and a graph (the ONNX checker requires both), so their absence is the tell.
    if (!isFieldSet(model, ModelProtoSchema.field.irVersion) || !isFieldSet(model, ModelProtoSchema.field.graph)) {
        const missing = isFieldSet(model, ModelProtoSchema.field.irVersion) ? 'graph' : 'ir_version';
        throw new RegraftError(`${source}: not an ONNX model (no ${missing} field); pass a .onnx file`);
    }
    assertSubgraphDepth(model, source);
    return model;
}
/**
 * Serializes a model into one buffer, byte-identical to what protobuf-es's toBinary writes. For files, prefer
 * saveModelFile, which streams large tensors instead of copying them into one buffer.
 */
export function encodeModel(model) {
    assertSubgraphDepth(model, 'model');
    try {
        return toBinary(ModelProtoSchema, model);
    }
    catch (err) {
        throw new RegraftError(`model: cannot encode (${oneLine(describeError(err))}); a field holds a value of the wrong type`);
    }
}
/** Refuses models whose subgraphs nest deeper than {@link MAX_SUBGRAPH_DEPTH}; `source` names the model. */
export function assertSubgraphDepth(model, source) {
    const mainGraphAndBelow = MAX_SUBGRAPH_DEPTH + 1;
    if (graphNesting(ModelProtoSchema, model, mainGraphAndBelow) > mainGraphAndBelow)
        throw tooDeep(source);
}
function tooDeep(source) {
    return new RegraftError(`${source}: subgraphs (If/Loop/Scan bodies) nest deeper than ${MAX_SUBGRAPH_DEPTH} levels, regraft's limit; ` +
        'flatten the nested control flow before using this model');
}
function oneLine(text) {
    return text.replace(/\s+/g, ' ').trim();
}
