/**
 * Every setting of `regraft train`, in one list: its type, range, default, flag and help text. The CLI's flags
 * (cli/train.ts, cli/flags.ts), `--config` files, a tuning study's `train:` block, the API's `train({...})` and a
 * run's own config.json are all read and checked through this list, so they accept the same keys, types and
 * ranges, and say the same thing about a bad value.
 *
 * To add a setting, add one entry here and nothing else:
 *   - the key is camelCase (`classAxis`); its flag is the kebab-case form (`--class-axis <n>`); a boolean that
 *     defaults to true becomes `--no-<name>` (`tensorboard: booleanSetting({ default: true, ... })` gives
 *     `--no-tensorboard`);
 *   - pick the kind (numberSetting with min/max/above/below/integer, booleanSetting, choiceSetting, textSetting,
 *     listSetting) and give `default` (or `required: true`; with neither the setting is optional and absent
 *     until given); the help text says what it does, the default is appended to it;
 *   - `searchable: true` lets a tuning study search over it, `mayChangeOnResume: true` lets `--resume` change it;
 *   - TrainConfig (config.ts) is derived from this list, so the key is there at once: read it where it is needed.
 * Defaults and ranges that another module owns (an optimizer default, Dropout's ratio check) are imported from it.
 */
import { CLASS_AXES, DEFAULT_IGNORE_INDEX, LOSS_KINDS } from '../compile/losses.js';
import { DEFAULT_MOMENTUM, DEFAULT_OPTIMIZER, DEFAULT_WEIGHT_DECAY, TRAINING_OPTIMIZERS } from '../compile/optimizers.js';
import { DEFAULT_DROPOUT_RATIO, ratioProblem } from '../passes/insert-dropout.js';
import { EXECUTION_PROVIDERS } from '../runtime/execution-provider.js';
import { SCHEDULES } from './schedule.js';
import { DEFAULT_STEPS_PER_RUN, SCAN_STATE_LIMIT_MIB } from './steps-per-run.js';
import { booleanSetting, choiceSetting, listSetting, numberSetting, textSetting } from './setting-kinds.js';

const TRAINING_OPTIMIZER_DEFAULT = TRAINING_OPTIMIZERS.find((o) => o === DEFAULT_OPTIMIZER)!;

export const TRAIN_SETTINGS = {
  model: textSetting({ noun: 'an ONNX model path', required: true, argument: true, help: 'ONNX model to train (or set "model" in --config)' }),
  data: textSetting({ noun: 'a data spec', required: true, placeholder: '<spec>', help: 'training data: mnist, mnist:test, idx:IMAGES,LABELS, csv:FILE, npy:X,Y, or named arrays for a model with several inputs: npz:FILE.npz, npy:input_ids=ids.npy,...,labels=y.npy' }),
  valData: textSetting({ noun: 'a data spec', placeholder: '<spec>', help: 'separate validation data instead of a split (any --data spec)' }),
  target: textSetting({ noun: 'a model output name', placeholder: '<output>', help: 'the model output the loss reads (default: the first output)' }),
  valSplit: numberSetting({ min: 0, below: 1, default: 0.1, placeholder: '<f>', help: 'fraction of the training data held out for validation' }),
  out: textSetting({ noun: 'a folder path', required: true, placeholder: '<dir>', mayChangeOnResume: true, help: 'run directory (config, metrics.jsonl, checkpoints, loss.svg)' }),
  epochs: numberSetting({ integer: true, min: 1, default: 10, searchable: true, mayChangeOnResume: true, help: 'epochs' }),
  batchSize: numberSetting({ integer: true, min: 1, default: 64, searchable: true, help: 'batch size' }),
  lr: numberSetting({ above: 0, default: 0.01, searchable: true, help: 'learning rate' }),
  schedule: choiceSetting(SCHEDULES, { default: 'constant', searchable: true, help: `learning-rate schedule: ${SCHEDULES.join(', ')}` }),
  warmup: numberSetting({ min: 0, default: 0, placeholder: '<epochs>', searchable: true, help: 'raise the learning rate linearly over this many epochs (fractions allowed), step by step' }),
  stepSize: numberSetting({ integer: true, min: 1, default: 10, help: 'step schedule: epochs between decays' }),
  gamma: numberSetting({ min: 0, default: 0.1, help: 'step schedule: decay factor' }),
  optimizer: choiceSetting(TRAINING_OPTIMIZERS, { default: TRAINING_OPTIMIZER_DEFAULT, searchable: true, help: TRAINING_OPTIMIZERS.join(', ') }),
  momentum: numberSetting({ min: 0, below: 1, default: DEFAULT_MOMENTUM, searchable: true, help: 'momentum factor' }),
  nesterov: booleanSetting({ default: false, help: 'Nesterov momentum' }),
  weightDecay: numberSetting({ min: 0, default: DEFAULT_WEIGHT_DECAY, searchable: true, help: "AdamW's decoupled weight decay, over the --penalize selection" }),
  clipGradNorm: numberSetting({ min: 0, default: 0, searchable: true, help: "scale the gradients so their global L2 norm is at most x (PyTorch's clip_grad_norm_); 0: no clipping" }),
  loss: choiceSetting(LOSS_KINDS, {
    default: 'cross-entropy',
    help: `the loss: ${LOSS_KINDS.join(', ')}; cross-entropy reads class labels ([N], or [N, T] / [N, H, W] per position), causal-lm next-token ids (labels default to input_ids), the others read them as float targets`,
  }),
  classAxis: numberSetting({
    integer: true, oneOf: CLASS_AXES, placeholder: '<axis>',
    help: 'cross-entropy on logits of rank 3+: 1 (classes on axis 1, [N, C, d...], as PyTorch) or -1 (classes last, [N, T, V], as Hugging Face); needed only when the labels fit both',
  }),
  ignoreIndex: numberSetting({
    integer: true, default: DEFAULT_IGNORE_INDEX, placeholder: '<n>',
    help: 'cross-entropy and causal-lm: positions with this label do not count; the loss is the mean over the others (as PyTorch and Hugging Face)',
  }),
  l2: numberSetting({
    min: 0, default: 0, placeholder: '<lam>', searchable: true,
    help: "L2 penalty (lam/2)*sum(w^2) on the weights (--penalize: biases and normalization parameters left out by default): PyTorch's weight_decay=lam; the article's lambda/(2m) form is lam = lambda/m",
  }),
  l1: numberSetting({ min: 0, default: 0, placeholder: '<lam>', searchable: true, help: 'L1 penalty lam*sum(|w|) on the same weights' }),
  penalize: listSetting({
    noun: "'default', 'all' or initializer-name globs", example: "'fc*.weight'", default: [], placeholder: '<globs>',
    help: "what --l2, --l1 and AdamW's --weight-decay cover: 'default' (every trained parameter but biases and normalization scales and shifts, as Hugging Face's Trainer), 'all', or initializer-name globs",
  }),
  accumulate: numberSetting({ integer: true, min: 1, default: 1, searchable: true, help: 'micro-batches of --batch-size per optimizer update (gradient accumulation)' }),
  dropoutAfter: listSetting({ noun: 'op types', example: 'Relu', default: [], placeholder: '<ops>', searchable: true, help: 'insert Dropout after these op types, e.g. Relu,Gelu,Softmax' }),
  dropoutAfterNode: listSetting({ noun: 'node-name globs', example: "'*/attention/*'", default: [], placeholder: '<globs>', help: 'insert Dropout after the nodes these name globs match' }),
  dropoutRatio: numberSetting({ expected: 'a number', problem: ratioProblem, default: DEFAULT_DROPOUT_RATIO, placeholder: '<r>', searchable: true, help: 'Dropout ratio in [0, 1)' }),
  freeze: listSetting({ noun: 'initializer-name globs', example: "'fc1.*'", default: [], placeholder: '<globs>', help: 'parameters not to train (initializer-name globs; they win over --train)' }),
  train: listSetting({
    noun: 'initializer-name globs', example: "'scale'", default: [], placeholder: '<globs>',
    help: "also train these initializers, which regraft takes for constants (rank 0, one element read only by arithmetic, inf/NaN; 'regraft inspect MODEL' lists them)",
  }),
  untie: booleanSetting({ default: false, help: 'train tied weights (equal or transposed copies, e.g. GPT-2 embedding and head) as separate tensors' }),
  patience: numberSetting({ integer: true, min: 0, default: 0, help: 'stop when validation loss has not improved for n epochs; 0: never' }),
  seed: numberSetting({ integer: true, default: 0, searchable: true, help: 'seed for initial shuffles, Dropout masks and the split' }),
  ep: choiceSetting(EXECUTION_PROVIDERS, { default: 'cpu', placeholder: '<provider>', mayChangeOnResume: true, help: 'execution provider: cpu, cuda or webgpu (falls back to cpu, saying why, when the GPU provider is not installed or does not start)' }),
  strict: booleanSetting({ default: false, mayChangeOnResume: true, help: 'turn warnings into errors: --ep cuda or webgpu falling back to CPU, a diverging loss' }),
  stepsPerRun: numberSetting({
    integer: true, min: 1, mayChangeOnResume: true, placeholder: '<n>',
    help: `optimizer steps per onnxruntime run, parameters and optimizer state kept inside onnxruntime between them (same results; progress and Ctrl-C act between runs); default ${DEFAULT_STEPS_PER_RUN} when the parameters and optimizer state take at most ${SCAN_STATE_LIMIT_MIB} MiB, else 1`,
  }),
  threads: numberSetting({ integer: true, min: 1, default: 1, mayChangeOnResume: true, help: 'onnxruntime threads per op' }),
  limit: numberSetting({ integer: true, min: 0, default: 0, help: 'use only the first n training samples (quick experiments); 0: all' }),
  tensorboard: booleanSetting({ default: true, help: 'TensorBoard event files in RUN/tb/ (train/loss and train/lr per step, validation and speed per epoch); --no-tensorboard (tensorboard: false) writes none' }),
} as const;

export type TrainSettingKey = keyof typeof TRAIN_SETTINGS;
