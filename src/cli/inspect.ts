import type { Command } from 'commander';
import { dtypeName } from '../ir/dtype.js';
import type { Model } from '../ir/model.js';
import { numel, tensorByteSize } from '../ir/tensor.js';
import type { Value } from '../ir/value.js';
import { loadModelWithInfo, type LoadedModel } from '../model-io.js';
import { checkTrainable, type Trainability } from '../compile/trainability.js';
import { chooseParameters } from '../compile/parameter-choice.js';
import { describeTie, type TiedWeight } from '../compile/tied-weights.js';
import { formatProviderReport, providerReport } from '../runtime/provider-status.js';
import { cudaPlacement, describeCudaPlacement } from '../check/cuda-placement.js';
import { UsageError } from '../errors.js';
import type { CliIo } from './context.js';

export interface TensorSummary {
  name: string;
  type: string;
  shape: (number | string | null)[] | null;
}

export interface ModelSummary {
  path: string;
  irVersion: number;
  producer: string;
  opsets: Record<string, number>;
  inputs: TensorSummary[];
  outputs: TensorSummary[];
  nodes: number;
  ops: Record<string, number>;
  parameters: { tensors: number; elements: number; bytes: number };
  externalData: { tensor: string; location: string; offset: number; length: number }[];
  /** Initializers holding one parameter (trained as one unless --untie). */
  tied: TiedWeight[];
  /** Float initializers taken for constants, never trained unless --train names them. */
  constants: { name: string; shape: number[]; reason: string }[];
  /** With --trainable: whether the model compiles into a training step as it is. */
  training?: Trainability;
}

function describeValue(v: Value): TensorSummary {
  return { name: v.name, type: v.elemType === undefined ? 'unknown' : dtypeName(v.elemType), shape: v.shape ?? null };
}

/** What `regraft inspect` reports, as data (the JSON form is this object). */
export function summarizeModel(loaded: LoadedModel): ModelSummary {
  const model: Model = loaded.model;
  const graph = model.graph;
  const ops: Record<string, number> = {};
  for (const n of graph.nodes) {
    const key = n.domain ? `${n.domain}.${n.opType}` : n.opType;
    ops[key] = (ops[key] ?? 0) + 1;
  }
  let elements = 0;
  let bytes = 0;
  for (const v of graph.initializers) {
    elements += numel(v.initializer!.dims);
    bytes += tensorByteSize(v.initializer!);
  }
  const choice = chooseParameters(model);
  return {
    path: loaded.path,
    irVersion: model.irVersion,
    producer: [model.proto.producerName, model.proto.producerVersion].filter(Boolean).join(' ') || 'unknown',
    opsets: Object.fromEntries([...model.opsets].map(([d, v]) => [d || 'ai.onnx', v])),
    inputs: graph.inputs.filter((v) => !v.initializer).map(describeValue),
    outputs: graph.outputs.map(describeValue),
    nodes: graph.nodes.length,
    ops: Object.fromEntries(Object.entries(ops).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
    parameters: { tensors: graph.initializers.length, elements, bytes },
    externalData: loaded.externalData.map(({ tensor, location, offset, length }) => ({ tensor, location, offset, length })),
    tied: choice.ties,
    constants: choice.constants.map((c) => ({ name: c.value.name, shape: c.value.initializer!.dims.map(Number), reason: c.reason })),
  };
}

function formatShape(s: TensorSummary): string {
  return `${s.type}[${s.shape ? s.shape.map((d) => d ?? '?').join(', ') : '?'}]`;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export function formatSummary(s: ModelSummary): string[] {
  const lines = [
    `${s.path}`,
    `  IR version ${s.irVersion}, producer ${s.producer}`,
    `  opsets: ${Object.entries(s.opsets).map(([d, v]) => `${d} ${v}`).join(', ')}`,
    `  inputs:`,
    ...s.inputs.map((i) => `    ${i.name}: ${formatShape(i)}`),
    `  outputs:`,
    ...s.outputs.map((o) => `    ${o.name}: ${formatShape(o)}`),
    `  parameters: ${s.parameters.elements.toLocaleString('en-US')} in ${s.parameters.tensors} tensors (${formatBytes(s.parameters.bytes)})`,
    `  nodes: ${s.nodes}`,
    ...Object.entries(s.ops).map(([op, n]) => `    ${op.padEnd(28)} ${n}`),
  ];
  if (s.externalData.length > 0) {
    const files = [...new Set(s.externalData.map((e) => e.location))];
    lines.push(`  external data: ${s.externalData.length} tensors in ${files.join(', ')}`);
  }
  if (s.tied.length > 0) {
    lines.push(`  tied weights (trained as one tensor; --untie trains them apart):`);
    for (const t of s.tied) lines.push(`    ${describeTie(t)}`);
  }
  if (s.constants.length > 0) {
    lines.push(`  constants (float initializers not trained; --train NAME trains one):`);
    for (const c of s.constants) lines.push(`    ${c.name} [${c.shape.join(', ')}]: ${c.reason}`);
  }
  if (s.training?.trainable) lines.push(`  trained: ${s.training.trained.join(', ')}`);
  if (s.training?.untrainable.length) lines.push(`  not reached by the loss (kept fixed): ${s.training.untrainable.join(', ')}`);
  if (s.training) lines.push(`  training: ${formatTrainability(s.training)}`);
  return lines;
}

function formatTrainability(t: Trainability): string {
  if (!t.trainable) return `not as it is: ${t.reason}`;
  const unrolled = t.unrolled > 0 ? `, ${t.unrolled} recurrent layer${t.unrolled === 1 ? '' : 's'} unrolled` : '';
  const perStep = t.fixedPerStep.length > 0 ? `, for one size of ${t.fixedPerStep.join(' and ')} per step: ${t.fixedPerStep.map((d) => `--dim ${d}=SIZE`).join(' ')}` : '';
  // Tied copies are listed above; the count is of the tensors the step trains.
  return `compiles into a training step (${t.parameters} trainable tensors${unrolled}${perStep})`;
}

export function registerInspect(program: Command, io: CliIo): void {
  program
    .command('inspect')
    .description('show inputs, outputs, opsets, op histogram, parameter count and external data of a model; or, with --providers, the execution providers onnxruntime-node can use here')
    .argument('[model]', 'ONNX model file (with --providers: also say which of its nodes the CUDA provider has no kernel for)')
    .option('--json', 'print the summary as JSON')
    .option('--trainable', 'also say whether the model compiles into a training step as it is (and if not, why) and list what it trains')
    .option('--providers', 'list the execution providers onnxruntime-node has (bundled or installed) and whether each starts on this machine; with a MODEL, also the nodes onnxruntime would run on CPU under --ep cuda')
    .action(async (path: string | undefined, opts: { json?: boolean; trainable?: boolean; providers?: boolean }) => {
      if (opts.providers) {
        if (opts.trainable) throw new UsageError('inspect --providers takes no --trainable; run `regraft inspect MODEL --trainable` for that');
        // The model first: a bad file is refused before any provider is started.
        const model = path === undefined ? undefined : (await loadModelWithInfo(path)).model;
        const report = await providerReport();
        const placement = model ? cudaPlacement(model) : undefined;
        if (opts.json) io.out(JSON.stringify(placement ? { ...report, cudaPlacement: placement } : report, null, 2));
        else {
          formatProviderReport(report).forEach((l) => io.out(l));
          if (placement) io.out(describeCudaPlacement(placement, path!, { whenPlaced: true })!);
        }
        return;
      }
      if (path === undefined) throw new UsageError('inspect needs a MODEL (an ONNX file), or --providers to list the execution providers');
      const loaded = await loadModelWithInfo(path);
      const summary = summarizeModel(loaded);
      if (opts.trainable) summary.training = checkTrainable(loaded.model);
      if (opts.json) io.out(JSON.stringify(summary, null, 2));
      else formatSummary(summary).forEach((l) => io.out(l));
    });
}
