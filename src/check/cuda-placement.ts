/**
 * Which nodes of a model onnxruntime's CUDA provider cannot take, so that they run on the CPU. onnxruntime decides
 * that per node, silently, and puts a device copy on every edge between the two; this check reads the same facts
 * (src/runtime/cuda-kernels.ts) from the model alone, with no GPU and no session.
 *
 * A node is placeable when the CUDA provider has a kernel for its op at its schema's since-version (the model's
 * opset resolved through ONNX's schema history) and, when the node computes on float32, a kernel that takes
 * float32. Integer and bool nodes (shape arithmetic, masks, labels) need a kernel of the op at that version only:
 * onnxruntime keeps shape arithmetic on the CPU on purpose (HOST_OUTPUT_OPS), which is not a fallback worth
 * reporting. Nodes inside If/Loop/Scan bodies are checked by op and version.
 */
import { DataType } from '../ir/dtype.js';
import { attributeSubgraphs } from '../ir/attributes.js';
import type { Model } from '../ir/model.js';
import type { Node } from '../ir/node.js';
import { inferShapesOf } from '../ir/shape/infer.js';
import type { InferredType } from '../ir/shape/types.js';
import type { Value } from '../ir/value.js';
import { schemaSinceVersion } from '../onnx/schema-versions.js';
import { cudaKernelFor, cudaKnowsOp, KERNEL_FREE_OPS } from '../runtime/cuda-kernels.js';
import type { GraphProto } from 'onnx-buf';
import type { ExecutionProvider } from '../runtime/execution-provider.js';

export interface UnplacedOp {
  op: string;
  /** The schema since-version its nodes resolve to (undefined when ONNX has no schema of it at this opset). */
  sinceVersion?: number;
  /** Why the CUDA provider does not take it. */
  reason: 'no CUDA kernel' | 'no CUDA kernel at this version' | 'no float CUDA kernel';
  /** Names of the nodes (node_Op_N), subgraph nodes as `outer/inner`. */
  nodes: string[];
}

export interface CudaPlacement {
  /** Nodes checked, subgraph nodes included. */
  nodes: number;
  /** The ops whose nodes run on the CPU, most nodes first. */
  unplaced: UnplacedOp[];
  /** Nodes of other domains than ai.onnx (com.microsoft, custom), which the table does not cover, by `domain.Op`. */
  unchecked: Record<string, number>;
}

/** The nodes of `model` that onnxruntime's CUDA provider has no kernel for, grouped by op. */
export function cudaPlacement(model: Model): CudaPlacement {
  const graph = model.graph;
  const opset = graph.opset('') ?? 0;
  const known = new Map<Value, InferredType>();
  inferShapesOf(graph.nodes, known);
  const elemType = (v: Value | null): number | undefined => (v ? (v.elemType ?? known.get(v)?.elemType) : undefined);
  const computesOnFloat = (n: Node): boolean => {
    const types = [...n.inputs, ...n.outputs].map(elemType).filter((t) => t !== undefined);
    // A node with no known type is taken for float: a training step's are, unless inference says otherwise.
    return types.length === 0 || types.includes(DataType.FLOAT);
  };

  const groups = new Map<string, UnplacedOp>();
  const unchecked: Record<string, number> = {};
  let count = 0;
  const visit = (name: string, opType: string, domain: string, float: boolean, subgraphs: GraphProto[]) => {
    count++;
    if (domain !== '' && domain !== 'ai.onnx') unchecked[`${domain}.${opType}`] = (unchecked[`${domain}.${opType}`] ?? 0) + 1;
    const unplaced = whyUnplaced(opType, domain, opset, float);
    if (unplaced) {
      const key = `${unplaced.op}@${unplaced.sinceVersion ?? ''}/${unplaced.reason}`;
      const group = groups.get(key) ?? { ...unplaced, nodes: [] };
      group.nodes.push(name);
      groups.set(key, group);
    }
    for (const sub of subgraphs) {
      for (const inner of sub.node) {
        visit(`${name}/${inner.name || inner.opType}`, inner.opType, inner.domain, true, inner.attribute.flatMap(attributeSubgraphs));
      }
    }
  };
  for (const n of graph.nodes) visit(n.name, n.opType, n.domain, computesOnFloat(n), [...n.attributes.values()].flatMap(attributeSubgraphs));
  const unplaced = [...groups.values()].sort((a, b) => b.nodes.length - a.nodes.length || a.op.localeCompare(b.op));
  return { nodes: count, unplaced, unchecked };
}

function whyUnplaced(opType: string, domain: string, opset: number, float: boolean): Omit<UnplacedOp, 'nodes'> | undefined {
  if ((domain !== '' && domain !== 'ai.onnx') || KERNEL_FREE_OPS.has(opType)) return undefined;
  // An op ONNX no longer defines (Affine, Crop, ...) is matched at the model's opset, as its kernel was registered.
  const sinceVersion = schemaSinceVersion(opType, opset) ?? opset;
  const kernel = cudaKernelFor(opType, sinceVersion);
  if (kernel === 'float' || (kernel === 'other types only' && !float)) return undefined;
  if (kernel === 'other types only') return { op: opType, sinceVersion, reason: 'no float CUDA kernel' };
  return { op: opType, sinceVersion, reason: cudaKnowsOp(opType) ? 'no CUDA kernel at this version' : 'no CUDA kernel' };
}

/**
 * One line for a user who asked for CUDA: `what` names the model ("the train step", "model.onnx"). When every node
 * has a kernel: undefined, or with `whenPlaced` a line that says so.
 */
export function describeCudaPlacement(placement: CudaPlacement, what: string, opts: { whenPlaced?: boolean } = {}): string | undefined {
  const count = placement.unplaced.reduce((n, u) => n + u.nodes.length, 0);
  const others = Object.entries(placement.unchecked).map(([op, n]) => `${op}${n > 1 ? ` x${n}` : ''}`);
  const unchecked = others.length > 0 ? `; not checked (not ai.onnx): ${others.join(', ')}` : '';
  if (count === 0 && others.length > 0) return `onnxruntime's CUDA provider has a kernel for every ai.onnx node of ${what}${unchecked}`;
  if (count === 0) {
    const nodes = `${placement.nodes} node${placement.nodes === 1 ? '' : 's'}`;
    return opts.whenPlaced ? `onnxruntime's CUDA provider has a kernel for every node of ${what} (${nodes})` : undefined;
  }
  const ops = placement.unplaced.map((u) => {
    const version = u.reason === 'no CUDA kernel at this version' || u.reason === 'no float CUDA kernel' ? `-${u.sinceVersion}` : '';
    return `${u.op}${version}${u.nodes.length > 1 ? ` x${u.nodes.length}` : ''}`;
  });
  return `onnxruntime's CUDA provider has no kernel for ${count} node${count === 1 ? '' : 's'} of ${what} (${ops.join(', ')}); they run on CPU with copies around them${unchecked}`;
}

/** What `train` and `compile` say of a step meant for `ep`: the CUDA line (see above), nothing for other providers. */
export function stepPlacementNotice(step: Model, ep: ExecutionProvider | undefined): string | undefined {
  return ep === 'cuda' ? describeCudaPlacement(cudaPlacement(step), 'the train step') : undefined;
}
