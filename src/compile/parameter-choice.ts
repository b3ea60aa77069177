/**
 * What a training step trains: the model's parameters (ir/parameters.ts decides which float initializers are
 * parameters and which are constants), plus the constants `train` globs take in, minus what `freeze` globs leave
 * out (freeze wins), with tied copies trained as their parameter unless `untie`. Also what weight decay covers.
 */
import { RegraftError } from '../errors.js';
import type { Model } from '../ir/model.js';
import { classifyInitializers, type ConstantInitializer } from '../ir/parameters.js';
import { DataType } from '../ir/dtype.js';
import type { Value } from '../ir/value.js';
import { penaltyParameters, type ParameterSelection } from '../passes/add-penalty.js';
import { globToRegExp, matchesAnyGlob } from '../util/glob.js';
import { findTiedWeights, type TiedWeight } from './tied-weights.js';

export interface ParameterChoiceOptions {
  /** Globs of initializer names not to train (they win over `train`). */
  freeze?: readonly string[];
  /** Globs of initializers to train although the rule takes them for constants (a rank-0 temperature, ...). */
  train?: readonly string[];
  /** Train tied copies as separate tensors. */
  untie?: boolean;
}

export interface ParameterChoice {
  /** Initializers the step trains if the loss reaches them, in graph order (tied copies not among them). */
  candidates: Value[];
  /** Float initializers taken for constants and not taken in by `train`, with the reason. */
  constants: ConstantInitializer[];
  /** Copies trained as their parameter (empty with `untie`). */
  ties: TiedWeight[];
  /** Parameters `freeze` left out. */
  frozen: string[];
}

export function chooseParameters(model: Model, opts: ParameterChoiceOptions = {}): ParameterChoice {
  const graph = model.graph;
  const { parameters, constants } = classifyInitializers(graph);
  const takenIn = new Set<Value>();
  for (const pattern of opts.train ?? []) {
    const re = globToRegExp(pattern);
    const hits = graph.initializers.filter((v) => re.test(v.name));
    if (hits.length === 0) throw new RegraftError(`--train '${pattern}' matches no initializer; list them with 'regraft inspect MODEL --trainable'`);
    for (const v of hits) {
      if (v.initializer!.dataType !== DataType.FLOAT) {
        throw new RegraftError(`--train '${pattern}': initializer '${v.name}' is not float32, so it cannot be trained; narrow the glob`);
      }
      const constant = constants.find((c) => c.value === v);
      if (constant?.reason.startsWith('a BatchNormalization running statistic')) {
        throw new RegraftError(`--train '${pattern}': '${v.name}' is ${constant.reason}, never trained by gradients; narrow the glob`);
      }
      if (constant) takenIn.add(v);
    }
  }
  const frozenGlobs = (opts.freeze ?? []).map(globToRegExp);
  const isFrozen = (v: Value) => matchesAnyGlob(v.name, frozenGlobs);
  const trainable = graph.initializers.filter((v) => parameters.includes(v) || takenIn.has(v));

  const ties: TiedWeight[] = [];
  if (!opts.untie) {
    for (const tie of findTiedWeights(trainable)) {
      const p = graph.requireValue(tie.parameter);
      const c = graph.requireValue(tie.copy);
      if (isFrozen(p) && isFrozen(c)) continue;
      if (isFrozen(p) !== isFrozen(c)) {
        const [frozen, free] = isFrozen(p) ? [p, c] : [c, p];
        throw new RegraftError(
          `'${frozen.name}' is frozen but '${free.name}', which holds the same weights (${tie.relation === 'transpose' ? 'transposed' : 'equal'}), is not: freeze both, or pass --untie to train them as separate tensors`,
        );
      }
      ties.push(tie);
    }
  }
  const copies = new Set(ties.map((t) => t.copy));
  return {
    candidates: trainable.filter((v) => !isFrozen(v) && !copies.has(v.name)),
    constants: constants.filter((c) => !takenIn.has(c.value)),
    ties,
    frozen: trainable.filter(isFrozen).map((v) => v.name),
  };
}

/**
 * The parameters weight decay covers (the L1/L2 penalties and AdamW's decoupled decay), by name: the selection
 * (penaltyParameters: by default every trained parameter but biases and normalization scales and shifts) read on the
 * model as given, with tied copies counted as their parameter, once. 'default' and 'all' cover trained parameters
 * only; globs name whatever they match.
 */
export function decayedParameters(model: Model, selection: ParameterSelection | undefined, choice: ParameterChoice): string[] {
  const names = penaltyParameters(model, selection ?? 'default');
  const parameterOf = new Map(choice.ties.map((t) => [t.copy, t.parameter]));
  const trained = new Set(choice.candidates.map((v) => v.name));
  const byRole = selection === undefined || selection === 'default' || selection === 'all';
  const out: string[] = [];
  for (const name of names) {
    const owner = parameterOf.get(name) ?? name;
    if (byRole && !trained.has(owner)) continue;
    if (!out.includes(owner)) out.push(owner);
  }
  return out;
}

/** The line that tells what weight decay covers, e.g. `weight decay covers 17 of 40 trained tensors (...)`. */
export function describeDecay(decayed: readonly string[], trained: readonly string[], selection: ParameterSelection | undefined): string {
  const which = selection === undefined || selection === 'default'
    ? 'biases and normalization scales and shifts left out; --penalize all covers every one'
    : selection === 'all' ? 'every one, --penalize all' : 'the --penalize globs';
  return `weight decay covers ${decayed.length} of ${trained.length} trained tensors (${which})`;
}
