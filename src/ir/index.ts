export { AttrType, AttributeReader, float, floats, makeAttribute, type AttrValue, type AttributeProto } from './attributes.js';
export { GraphBuilder } from './builder.js';
export { eliminateDeadNodes, type CleanupOptions, type CleanupReport } from './cleanup.js';
export { DataType, dtypeName, elementBytes, isFloatType, ortTypeName } from './dtype.js';
export { cloneModel } from './clone.js';
export { exportGraph, exportModel } from './export.js';
export { Graph, type NodeOptions } from './graph.js';
export { importModel, MAX_IR_SUBGRAPH_DEPTH } from './import.js';
export { Model, newModel, type NewModelOptions } from './model.js';
export { Node } from './node.js';
export {
  boolTensor,
  floatTensor,
  int64Tensor,
  numel,
  tensorByteSize,
  tensorDims,
  tensorToBigInt64,
  tensorToFloat32,
  tensorToNumbers,
  type TensorProto,
} from './tensor.js';
export { toposort } from './toposort.js';
export { assertValid, validateGraph, validateModel, type ValidationIssue } from './validate.js';
export { tensorType, Value, type Dim, type Use } from './value.js';
export { constantFloats, constantInts, constantTensor } from './constant.js';
