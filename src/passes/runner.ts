import { RegraftError } from '../errors.js';
import { assertValid, type Model } from '../ir/index.js';
import { eliminateDead } from './eliminate-dead.js';
import { step, type Pass, type PassResult, type PassStep } from './pass.js';

export interface RunPassesOptions {
  /** Run the whole list again while any pass reports a change (fixed point), at most `maxRounds` times. */
  repeatUntilStable?: boolean;
  /** Default 10. Reaching it without a fixed point is an error naming the passes that kept changing the model. */
  maxRounds?: number;
}

export interface PassRecord {
  name: string;
  round: number;
  modified: boolean;
}

export interface RunPassesResult extends PassResult {
  /** Every pass run, in order. */
  history: PassRecord[];
  /** What each of those runs returned, in the same order: the pass's own report (Dropout inserted, outputs removed, ...). */
  results: PassResult[];
}

interface Interface {
  inputs: string[];
  outputs: string[];
}

const interfaceOf = (model: Model): Interface => ({
  inputs: model.graph.inputs.map((v) => v.name),
  outputs: model.graph.outputs.map((v) => v.name),
});

/**
 * Runs passes in order on `model` (in place), optionally to a fixed point, and always finishes with dead-node
 * removal, a topological sort and validation, so every pipeline hands on a valid model. After each pass the graph
 * input and output names are checked: unchanged, or for a pass that declares `removesTrainingInterface`, only
 * removals (never a new or renamed name).
 */
export function runPasses(model: Model, steps: readonly (PassStep | Pass)[], opts: RunPassesOptions = {}): RunPassesResult {
  const normalized = steps.map((s): PassStep => ('pass' in s ? s : { pass: s as unknown as Pass<never>, options: {} }));
  const maxRounds = opts.maxRounds ?? 10;
  const history: PassRecord[] = [];
  const results: PassResult[] = [];
  let modified = false;
  for (let round = 1; ; round++) {
    const changedThisRound: string[] = [];
    for (const { pass, options } of normalized) {
      const before = interfaceOf(model);
      const result = pass.run(model, options as never);
      if (result.model !== model) throw new RegraftError(`pass '${pass.name}' returned a different model object; passes rewrite the model in place`);
      checkInterface(pass, before, interfaceOf(model));
      history.push({ name: pass.name, round, modified: result.modified });
      results.push(result);
      if (result.modified) changedThisRound.push(pass.name);
    }
    modified ||= changedThisRound.length > 0;
    if (!opts.repeatUntilStable || changedThisRound.length === 0) break;
    if (round >= maxRounds) {
      throw new RegraftError(`passes ${changedThisRound.join(', ')} still changed the model after ${maxRounds} rounds; they do not reach a fixed point`);
    }
  }
  return { model, modified: finishPipeline(model) || modified, history, results };
}

/**
 * Runs one pass through the runner (interface check, then finishPipeline) and returns that pass's own result, typed:
 * how the CLI applies a single rewrite.
 */
export function runPass<O, R extends PassResult>(model: Model, pass: Pass<O, R>, options: O): R {
  return runPasses(model, [step(pass, options)]).results[0] as R;
}

/**
 * What every pipeline ends with: dead-node removal, a topological sort and validation (the first problem is thrown,
 * naming the node). Returns whether dead-node removal changed anything.
 */
export function finishPipeline(model: Model): boolean {
  const dead = eliminateDead(model);
  model.graph.toposort();
  assertValid(model);
  return dead.modified;
}

function checkInterface(pass: Pass<never>, before: Interface, after: Interface): void {
  for (const kind of ['inputs', 'outputs'] as const) {
    const was = before[kind];
    const now = after[kind];
    const label = kind === 'inputs' ? 'input' : 'output';
    if (pass.removesTrainingInterface) {
      const added = now.filter((n) => !was.includes(n));
      if (added.length > 0) throw new RegraftError(`pass '${pass.name}' added or renamed graph ${label}s ${added.join(', ')}; it may only remove training-only ones`);
      continue;
    }
    if (was.length !== now.length || was.some((n, i) => n !== now[i])) {
      const lost = was.filter((n) => !now.includes(n));
      const gained = now.filter((n) => !was.includes(n));
      const detail = lost.length + gained.length > 0 ? `lost [${lost.join(', ')}], gained [${gained.join(', ')}]` : 'reordered them';
      throw new RegraftError(`pass '${pass.name}' changed the graph ${label}s (${detail}); passes must keep graph input and output names`);
    }
  }
}
