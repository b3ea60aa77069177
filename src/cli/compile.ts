import { Option, type Command } from 'commander';
import { UsageError } from '../errors.js';
import { loadModelWithInfo, saveModel } from '../model-io.js';
import { compileTrainStep } from '../compile/compile.js';
import { parameterSelection } from '../passes/add-penalty.js';
import { describeTie } from '../compile/tied-weights.js';
import { describeDecay } from '../compile/parameter-choice.js';
import type { LossKind } from '../compile/losses.js';
import { inapplicableOptimizerSetting, type OptimizerKind } from '../compile/optimizers.js';
import { GRAD_SUFFIX, UPDATED_SUFFIX } from '../training-interface.js';
import { stepPlacementNotice } from '../check/cuda-placement.js';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../runtime/execution-provider.js';
import type { CliIo } from './context.js';
import { compileOptimizerOption, dimOption, lossOption, settingOption } from './flags.js';

interface CompileFlags {
  output: string;
  loss: LossKind;
  target?: string;
  l2?: number;
  l1?: number;
  penalize?: string[];
  optimizer: OptimizerKind;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
  clipGradNorm?: number;
  emitGradients?: boolean;
  freeze?: string[];
  dim?: Record<string, number>;
  train?: string[];
  untie?: boolean;
  ep?: ExecutionProvider;
}

export function registerCompile(program: Command, io: CliIo): void {
  program
    .command('compile')
    .description('compile a model into one training step of standard ONNX ops: loss (+ L1/L2), backward pass, optimizer update')
    .argument('<model>', 'ONNX model')
    .requiredOption('-o, --output <file>', 'train-step model to write')
    .addOption(lossOption(true))
    .addOption(settingOption('target'))
    .addOption(settingOption('l2'))
    .addOption(settingOption('l1'))
    .addOption(settingOption('penalize'))
    .addOption(compileOptimizerOption())
    .addOption(settingOption('momentum'))
    .addOption(settingOption('nesterov'))
    .addOption(settingOption('weightDecay'))
    .addOption(settingOption('clipGradNorm'))
    .option('--emit-gradients', 'also output <param>_grad for every trainable parameter')
    .addOption(settingOption('freeze'))
    .addOption(dimOption())
    .addOption(settingOption('train'))
    .addOption(settingOption('untie'))
    .addOption(new Option('--ep <provider>', 'the execution provider the step is meant for: on cuda or webgpu the loss is written in ops a GPU has kernels for (on cpu, onnxruntime\'s faster fused op); with cuda, say which nodes onnxruntime would run on CPU for want of a CUDA kernel').choices(EXECUTION_PROVIDERS))
    .action(async (path: string, flags: CompileFlags) => {
      const ignored = inapplicableOptimizerSetting(flags.optimizer, flags);
      if (ignored) throw new UsageError(`compile: ${ignored}`);
      const { model } = await loadModelWithInfo(path);
      const step = compileTrainStep(model, {
        loss: flags.loss,
        output: flags.target,
        l2: flags.l2,
        l1: flags.l1,
        penaltyParams: parameterSelection(flags.penalize),
        optimizer: { kind: flags.optimizer, momentum: flags.momentum, nesterov: flags.nesterov, weightDecay: flags.weightDecay, clipGradNorm: flags.clipGradNorm || undefined },
        emitGradients: flags.emitGradients,
        freeze: flags.freeze,
        dims: flags.dim,
        train: flags.train,
        untie: flags.untie,
        provider: flags.ep,
      });
      await saveModel(step.model, flags.output);
      io.out(`wrote ${flags.output}: ${step.params.length} trainable parameters, ${step.carried.filter((c) => !step.params.includes(c.input)).length} state tensors, ${step.model.graph.nodes.length} nodes`);
      io.out(`  inputs: ${[...step.dataInputs, step.labels, ...(step.lr ? [step.lr] : [])].join(', ')} + parameters and state (stored as defaults)`);
      io.out(`  outputs: ${step.loss}${flags.emitGradients ? `, <param>${GRAD_SUFFIX}` : ''}${step.carried.length ? `, <name>${UPDATED_SUFFIX}` : ''}`);
      if (step.penalized.length > 0) io.out(`  penalized: ${step.penalized.join(', ')}`);
      if (step.penalized.length > 0 || flags.optimizer === 'adamw') io.out(`  ${describeDecay(step.decayed, step.params, parameterSelection(flags.penalize))}`);
      for (const t of step.tied) io.out(`  tied: ${describeTie(t)}, trained as one tensor (--untie trains them apart)`);
      if (step.constants.length > 0) io.out(`  constants (not trained; --train NAME trains one): ${step.constants.map((c) => c.name).join(', ')}`);
      for (const d of step.decomposed ?? []) io.out(`  unrolled ${d.op} node '${d.node}' over ${d.steps} time steps (its weights keep their names)`);
      if (step.convsAsGemm.length > 0) io.out(`  ${step.convsAsGemm.length} Conv nodes with few output positions run as im2col + Gemm (onnxruntime's CPU Conv is slow there; the model keeps them): ${step.convsAsGemm.join(', ')}`);
      if (step.untrainable.length > 0) io.out(`  not trained (no gradient path to the loss): ${step.untrainable.join(', ')}`);
      const placement = stepPlacementNotice(step.model, flags.ep);
      if (placement) io.out(`  ${placement}`);
    });
}
