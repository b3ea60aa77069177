/**
 * Tied weights: two initializers that hold one parameter. PyTorch ties GPT-2's token embedding and its LM head
 * (`lm_head.weight is transformer.wte.weight`), but both exporters write two initializers, the embedding [V, D]
 * read by Gather and its transpose [D, V] read by MatMul. Trained apart they would drift apart; trained as one, the
 * gradient is the sum of both uses' gradients (the head's transposed), as autograd computes for the shared tensor.
 *
 * Detected (exactly, bit for bit; nothing is merged because it is close):
 *   - between parameters (see ir/parameters.ts) that are plain initializers (not graph inputs),
 *   - with at least MIN_TIED_ELEMENTS elements and at least two distinct values, so that the all-ones scales and
 *     all-zeros biases of a freshly initialized model, equal by construction but separate parameters, stay apart,
 *   - equal (same dims, same bits) or transposed (rank 2, [a, b] against [b, a], a[i][j] = b[j][i] bit for bit).
 * The first of a group in graph order is the parameter that trains; each other member is its copy.
 *
 *   Before:  E [V, D] -> Gather ...          Eᵀ [D, V] (initializer 'head') -> MatMul -> logits
 *   After:   E [V, D] -> Gather ...          E -> Transpose -> 'head' -> MatMul -> logits
 *
 * The step then has one parameter, one gradient, one update and one optimizer state; the copy's name stays in the
 * graph (the Transpose's output). The trainer writes the copy next to the parameter in checkpoints (tiedCopy), so
 * the exported model holds both initializers, equal.
 */
import { RegraftError } from '../errors.js';
import { GraphBuilder } from '../ir/builder.js';
import type { Graph } from '../ir/graph.js';
import { float32Bits, numel, tensorDims } from '../ir/tensor.js';
import type { Value } from '../ir/value.js';
import type { NamedTensor } from './step-io.js';

/** Smaller tensors are never taken as tied: equal small tensors are too easily equal by accident. */
export const MIN_TIED_ELEMENTS = 16;

export type TieRelation = 'equal' | 'transpose';

export interface TiedWeight {
  /** The initializer that is trained (first in graph order). */
  parameter: string;
  /** The initializer that holds the same parameter: equal to it, or its transpose. */
  copy: string;
  relation: TieRelation;
}

interface Candidate {
  value: Value;
  dims: number[];
  bits: Uint32Array;
}

/** An order-independent fingerprint of the bits (a transpose keeps it): element count, sum and sum of squares mod 2^32. */
function fingerprint(bits: Uint32Array): string {
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < bits.length; i++) {
    sum = (sum + bits[i]) >>> 0;
    squares = (squares + Math.imul(bits[i], bits[i])) >>> 0;
  }
  return `${bits.length}:${sum}:${squares}`;
}

function isFilled(bits: Uint32Array): boolean {
  for (let i = 1; i < bits.length; i++) if (bits[i] !== bits[0]) return false;
  return true;
}

function sameBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function transposedBits(a: Candidate, b: Candidate): boolean {
  const [rows, cols] = a.dims;
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) if (a.bits[i * cols + j] !== b.bits[j * rows + i]) return false;
  return true;
}

function relationOf(root: Candidate, other: Candidate): TieRelation | undefined {
  const sameDims = root.dims.length === other.dims.length && root.dims.every((d, i) => d === other.dims[i]);
  if (sameDims && sameBits(root.bits, other.bits)) return 'equal';
  const swapped = root.dims.length === 2 && other.dims.length === 2 && root.dims[0] === other.dims[1] && root.dims[1] === other.dims[0];
  if (swapped && transposedBits(root, other)) return 'transpose';
  return undefined;
}

/** The ties among `parameters` (graph order kept): each copy with the first parameter it equals or transposes. */
export function findTiedWeights(parameters: readonly Value[]): TiedWeight[] {
  const buckets = new Map<string, Candidate[]>();
  for (const value of parameters) {
    if (value.isGraphInput || !value.initializer) continue;
    const dims = tensorDims(value.initializer);
    if (numel(dims) < MIN_TIED_ELEMENTS) continue;
    const bits = float32Bits(value.initializer);
    if (isFilled(bits)) continue;
    const key = fingerprint(bits);
    buckets.set(key, [...(buckets.get(key) ?? []), { value, dims, bits }]);
  }
  const ties: TiedWeight[] = [];
  for (const group of buckets.values()) {
    const roots: Candidate[] = [];
    for (const c of group) {
      let tied = false;
      for (const root of roots) {
        const relation = relationOf(root, c);
        if (relation) {
          ties.push({ parameter: root.value.name, copy: c.value.name, relation });
          tied = true;
          break;
        }
      }
      if (!tied) roots.push(c);
    }
  }
  const order = new Map(parameters.map((v, i) => [v.name, i]));
  return ties.sort((a, b) => order.get(a.copy)! - order.get(b.copy)!);
}

/**
 * Makes every copy read its parameter: the copy's initializer goes and a Transpose (or an Identity, for an equal
 * copy) of the parameter takes its name and its readers.
 */
export function tieWeights(graph: Graph, ties: readonly TiedWeight[]): void {
  const b = new GraphBuilder(graph);
  b.namePrefix = 'tied/';
  for (const tie of ties) {
    const parameter = graph.requireValue(tie.parameter, 'tied parameter');
    const copy = graph.requireValue(tie.copy, 'tied copy');
    if (copy.isGraphOutput || copy.implicitUses.size > 0) {
      throw new RegraftError(`tied weights: '${tie.copy}' is a graph output or read by a subgraph, so it cannot be tied to '${tie.parameter}'; pass --untie`);
    }
    const derived = tie.relation === 'transpose' ? b.op('Transpose', [parameter], { perm: [1, 0] }) : b.op('Identity', [parameter]);
    derived.type = copy.type;
    copy.replaceAllUsesWith(derived);
    graph.removeInitializer(copy);
    derived.rename(tie.copy);
  }
}

/** The copy's values from its parameter's: what checkpoints and the exported model hold under the copy's name. */
export function tiedCopy(relation: TieRelation, parameter: NamedTensor): NamedTensor {
  if (relation === 'equal') return { data: parameter.data.slice(), dims: [...parameter.dims] };
  const [rows, cols] = parameter.dims;
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[j * rows + i] = parameter.data[i * cols + j];
  return { data, dims: [cols, rows] };
}

/** `tensors` plus every tied copy whose parameter it holds. */
export function withTiedCopies(tensors: ReadonlyMap<string, NamedTensor>, ties: readonly TiedWeight[]): Map<string, NamedTensor> {
  const out = new Map(tensors);
  for (const tie of ties) {
    const p = tensors.get(tie.parameter);
    if (p) out.set(tie.copy, tiedCopy(tie.relation, p));
  }
  return out;
}

/** `copy = transpose(parameter)` or `copy = parameter`, as inspect and compile print a tie. */
export function describeTie(t: TiedWeight): string {
  return `${t.copy} = ${t.relation === 'transpose' ? `transpose(${t.parameter})` : t.parameter}`;
}
