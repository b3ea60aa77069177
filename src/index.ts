/**
 * regraft's programmatic API: everything the CLI does, as typed functions for pipelines.
 *
 *   import { loadModel, insertDropout, compileTrainStep, train, exportRun, tune } from 'regraft';
 */

// Errors users can act on (exitCode 1: bad input, 2: usage).
export { RegraftError, UsageError, describeError } from './errors.js';

// ONNX I/O: lossless load/save, external data, atomic writes.
export { loadModel, loadModelWithInfo, saveModel, modelFromBytes, modelToBytes, type LoadedModel, type SaveOptions } from './model-io.js';
export { decodeModel, encodeModel, loadModelFile, saveModelFile, MAX_SUBGRAPH_DEPTH, type ExternalTensorRef, type SaveReport } from './onnx/index.js';

// The graph IR and its builder.
export * from './ir/index.js';
export { classifyInitializers, parameterRole, type ConstantInitializer, type InitializerClasses, type ParameterRole } from './ir/parameters.js';

// The names of a training graph's interface values (training_mode, lr, labels, loss, <name>_grad, <name>_updated).
export * from './training-interface.js';

// Rewriting passes.
export * from './passes/index.js';

// Autodiff.
export { buildBackward, type BackwardOptions, type BackwardResult } from './autodiff/backward.js';
export { differentiableOps } from './autodiff/registry.js';
export type { GradContext, GradientRule } from './autodiff/types.js';

// Checks in onnxruntime: inference equivalence of two models, gradients against central differences.
export { assertVerified, formatVerifyReport, verifyEquivalent, type OutputComparison, type VerifyOptions, type VerifyReport } from './check/equivalence.js';
export { gradcheck, type GradCheckOptions, type ParamGradCheck } from './check/gradcheck.js';

// Training: compile, train, export, evaluate.
export { attachLoss, isRegressionLoss, LOSS_KINDS, type LossKind, type LossSpec, type RegressionLoss } from './compile/losses.js';
export { emitOptimizer, OPTIMIZERS, type OptimizerConfig, type OptimizerKind } from './compile/optimizers.js';
export { compileTrainStep, compileEvalModel, type CompileOptions, type TrainStep } from './compile/compile.js';
export { chooseParameters, decayedParameters, type ParameterChoice, type ParameterChoiceOptions } from './compile/parameter-choice.js';
export { findTiedWeights, tiedCopy, withTiedCopies, MIN_TIED_ELEMENTS, type TiedWeight, type TieRelation } from './compile/tied-weights.js';
export { type UpdateStep } from './compile/accumulation.js';
export { StepRunner, stepModels, type MicroBatch, type StepModels } from './training/step-runner.js';
export { DEFAULT_CONFIG, readConfigFile, resolveConfig, type TrainConfig } from './training/config.js';
export { learningRate, SCHEDULES, type ScheduleKind, type ScheduleSettings } from './training/schedule.js';
export { train, type TrainHooks, type TrainResult } from './training/trainer.js';
export { readRunConfig, RUN_FILES, type EpochMetrics } from './training/run-dir.js';
export { exportRun, trainedInferenceModel, type ExportOptions, type ExportReport } from './training/export.js';
export { evaluate, evaluateFile, evaluateModelFile, evaluateSession, evaluateTargets, evaluateTargetsFile } from './evaluate/index.js';
export type { EvalMetrics, EvalOptions, Evaluation, ModelFile, RegressionMetrics } from './evaluate/index.js';

// Data and runtime.
export * from './data/index.js';
export {
  chooseExecutionProvider,
  createSession,
  CUDA_INSTALL_HINT,
  probeInstalledCuda,
  type ExecutionProvider,
  type Feeds,
  type Fetches,
  type Session,
  type SessionOptions,
} from './runtime/index.js';
// onnxruntime tensors (the IR's floatTensor/int64Tensor make TensorProtos).
export { ortFloatTensor, ortInt64Tensor, scalar as ortScalar } from './runtime/index.js';

// Sample models.
export { buildLeNet, buildMlp, type MlpOptions } from './models/builders.js';

// Hyperparameter tuning.
export * from './tune/index.js';
export { runTrainTrial, TRAIN_PARAM_NAMES } from './tune/train-trial.js';

// The CLI, for embedding.
export { main } from './cli/main.js';
