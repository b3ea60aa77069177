/**
 * The flags that `train`, `compile` and `gradcheck` share, each declared once: its name, its help text and its
 * parser. Where the commands differ, the difference is an argument here rather than a second declaration:
 * compile and gradcheck require --loss where train has a default; compile offers `--optimizer none` (gradients
 * only) and fills in the default optimizer, while train offers TRAINING_OPTIMIZERS and leaves every default to its
 * run settings (so that a config file is not overridden by a flag nobody typed).
 */
import { Option } from 'commander';
import { DEFAULT_IGNORE_INDEX, LOSS_KINDS, type ClassAxis, type LossKind } from '../compile/losses.js';
import { UsageError } from '../errors.js';
import { DEFAULT_MOMENTUM, DEFAULT_OPTIMIZER, DEFAULT_WEIGHT_DECAY, type OptimizerKind } from '../compile/optimizers.js';
import { parseChoice, parseList, parseNumber } from './options.js';

/** --loss; `defaultLoss` is the command's default, said in the help, or undefined where the flag is required. */
export function lossOption(defaultLoss?: LossKind): Option {
  const shownDefault = defaultLoss === undefined ? '' : ` (default ${defaultLoss})`;
  const option = new Option(
    '--loss <kind>',
    `the loss: ${LOSS_KINDS.join(', ')}${shownDefault}; cross-entropy reads class labels ([N], or [N, T] / [N, H, W] per position), causal-lm next-token ids (labels default to input_ids), the others read them as float targets`,
  ).argParser(parseChoice('--loss', LOSS_KINDS));
  return defaultLoss === undefined ? option.makeOptionMandatory() : option;
}

export function targetOption(): Option {
  return new Option('--target <output>', 'the model output the loss reads (default: the first output)');
}

export function l2Option(): Option {
  return new Option(
    '--l2 <lam>',
    "L2 penalty (lam/2)*sum(w^2) on the weights (--penalize: biases and normalization parameters left out by default): PyTorch's weight_decay=lam; the article's lambda/(2m) form is lam = lambda/m",
  ).argParser(parseNumber('--l2', { min: 0 }));
}

export function penalizeOption(): Option {
  return new Option(
    '--penalize <globs>',
    "what --l2, --l1 and AdamW's --weight-decay cover: 'default' (every trained parameter but biases and normalization scales and shifts, as Hugging Face's Trainer), 'all', or initializer-name globs",
  ).argParser(parseList);
}

export function weightDecayOption(): Option {
  return new Option('--weight-decay <x>', `AdamW's decoupled weight decay (default ${DEFAULT_WEIGHT_DECAY}), over the --penalize selection`).argParser(
    parseNumber('--weight-decay', { min: 0 }),
  );
}

export function l1Option(): Option {
  return new Option('--l1 <lam>', 'L1 penalty lam*sum(|w|) on the same weights').argParser(parseNumber('--l1', { min: 0 }));
}

/** --optimizer over `choices`; `fillDefault` sets DEFAULT_OPTIMIZER when the flag is not given. */
export function optimizerOption(choices: readonly OptimizerKind[], fillDefault: boolean): Option {
  const option = new Option('--optimizer <kind>', `${choices.join(', ')} (default ${DEFAULT_OPTIMIZER})`).argParser(parseChoice('--optimizer', choices));
  return fillDefault ? option.default(DEFAULT_OPTIMIZER) : option;
}

export function momentumOption(): Option {
  return new Option('--momentum <x>', `momentum factor (default ${DEFAULT_MOMENTUM})`).argParser(parseNumber('--momentum', { min: 0, max: 0.999999 }));
}

export function nesterovOption(): Option {
  return new Option('--nesterov', 'Nesterov momentum');
}

export function clipGradNormOption(): Option {
  return new Option('--clip-grad-norm <x>', "scale the gradients so their global L2 norm is at most x (PyTorch's clip_grad_norm_)").argParser(
    parseNumber('--clip-grad-norm', { min: 0 }),
  );
}

export function freezeOption(): Option {
  return new Option('--freeze <globs>', 'parameters not to train (initializer-name globs; they win over --train)').argParser(parseList);
}

export function trainOption(): Option {
  return new Option(
    '--train <globs>',
    "also train these initializers, which regraft takes for constants (rank 0, one element read only by arithmetic, inf/NaN; 'regraft inspect MODEL' lists them)",
  ).argParser(parseList);
}

export function untieOption(): Option {
  return new Option('--untie', 'train tied weights (equal or transposed copies, e.g. GPT-2 embedding and head) as separate tensors');
}

/** --class-axis 1|-1: where cross-entropy's logits of rank 3+ hold the classes, when the labels' shape does not say. */
export function classAxisOption(): Option {
  return new Option(
    '--class-axis <axis>',
    'cross-entropy on logits of rank 3+: 1 (classes on axis 1, [N, C, d...], as PyTorch) or -1 (classes last, [N, T, V], as Hugging Face); needed only when the labels fit both',
  ).argParser((raw: string): ClassAxis => {
    if (raw !== '1' && raw !== '-1') throw new UsageError(`--class-axis must be 1 or -1; got '${raw}'`);
    return Number(raw) as ClassAxis;
  });
}

/** --ignore-index: the label of positions that do not count. */
export function ignoreIndexOption(): Option {
  return new Option('--ignore-index <n>', `cross-entropy and causal-lm: positions with this label do not count; the loss is the mean over the others (default ${DEFAULT_IGNORE_INDEX}, as PyTorch and Hugging Face)`).argParser(
    parseNumber('--ignore-index', { integer: true }),
  );
}
