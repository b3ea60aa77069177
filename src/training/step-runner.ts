/**
 * Drives a compiled step through onnxruntime, one optimizer update at a time: the plain step (forward, backward and
 * update in one run), or, for a step compiled with `accumulate`, N runs of the gradient step into accumulators and
 * one run of the update step (compile/accumulation.ts), or several plain steps in one run of the scan-steps model
 * (compile/scan-steps.ts). Parameters, optimizer state and running statistics live in one map between runs, as
 * onnxruntime tensors.
 */
import { RegraftError } from '../errors.js';
import type { Model } from '../ir/model.js';
import { Tensor } from '../runtime/onnxruntime.js';
import type { Session } from '../runtime/session.js';
import { scalar } from '../runtime/tensors.js';
import type { TrainStep } from '../compile/compile.js';
import { feedableStep, type NamedTensor } from '../compile/step-io.js';

export interface StepModels {
  /** The step with every fed value a plain input (parameters, state, statistics, accumulators). */
  step: Model;
  /** The update half of an accumulating step, likewise feedable. */
  update?: Model;
  /** Stored values of parameters, optimizer state and running statistics: what the trainer carries and checkpoints. */
  initial: Map<string, NamedTensor>;
}

/** The feedable models of a step and the initial values of what they carry. */
export function stepModels(step: TrainStep): StepModels {
  if (!step.update) {
    const feedable = feedableStep(step.model, step.carried.map((c) => c.input));
    return { step: feedable.model, initial: feedable.initial };
  }
  const accumulators = new Set(step.update.gradients.map((g) => g.input));
  const fed = [...step.params, ...step.carried.map((c) => c.input)];
  const gradient = feedableStep(step.model, fed);
  const update = feedableStep(step.update.model, step.update.carried.map((c) => c.input));
  const initial = new Map([...gradient.initial].filter(([name]) => !accumulators.has(name)));
  for (const [name, t] of update.initial) initial.set(name, t);
  return { step: gradient.model, update: update.model, initial };
}

export interface MicroBatch {
  /** Data inputs and labels. */
  feeds: Record<string, Tensor>;
  /** The micro-batch's share of the update's samples (1 without accumulation). */
  weight: number;
  /** Whether the update is applied after this micro-batch. */
  last: boolean;
  /** The learning rate of the update (read with `last`, or on every run of a plain step). */
  lr?: number;
}

export class StepRunner {
  private readonly accumulators = new Map<string, Tensor>();
  private readonly zeros = new Map<string, Tensor>();
  /** The carried values the step session reads (an accumulating step does not read optimizer state). */
  private readonly stepReads: string[];

  constructor(
    private readonly step: TrainStep,
    private readonly stepSession: Session,
    private readonly updateSession: Session | undefined,
    /** Parameters, optimizer state and running statistics: read before and written after every run. */
    readonly carried: Map<string, Tensor>,
  ) {
    if (step.update && !updateSession) throw new RegraftError('StepRunner: an accumulating step needs a session of its update model');
    for (const c of step.carried) {
      if (!step.update?.gradients.some((g) => g.input === c.input)) continue;
      const dims = step.update.model.graph.requireValue(c.input).shape as number[];
      this.zeros.set(c.input, new Tensor('float32', new Float32Array(dims.reduce((a, d) => a * d, 1)), dims));
    }
    this.resetAccumulators();
    const inputs = new Set(stepSession.inputNames);
    this.stepReads = [...carried.keys()].filter((name) => inputs.has(name));
  }

  private resetAccumulators(): void {
    for (const [name, zero] of this.zeros) this.accumulators.set(name, zero);
  }

  /** Runs one micro-batch (the whole update, for a plain step); returns its loss. */
  async run(batch: MicroBatch): Promise<number> {
    const step = this.step;
    const feeds: Record<string, Tensor> = { ...batch.feeds };
    for (const name of this.stepReads) feeds[name] = this.carried.get(name)!;
    if (step.update) {
      for (const [name, t] of this.accumulators) feeds[name] = t;
      feeds[step.gradWeight!] = scalar(batch.weight);
    } else if (step.lr) feeds[step.lr] = scalar(batch.lr!);
    const out = await this.stepSession.run(feeds);
    for (const c of step.carried) {
      if (this.accumulators.has(c.input)) this.accumulators.set(c.input, out[c.output]);
      else this.carried.set(c.input, out[c.output]);
    }
    if (step.update && batch.last) await this.applyUpdate(batch.lr!);
    return (out[step.loss].data as Float32Array)[0];
  }

  /**
   * Runs several plain steps in one run of a scan-steps session (compile/scan-steps.ts): `feeds` holds their data
   * stacked along a new first axis, `lrs` one learning rate per step. Returns the steps' losses.
   */
  async runSteps(feeds: Record<string, Tensor>, lrs: Float32Array): Promise<Float32Array> {
    const step = this.step;
    if (step.update || !step.lr) throw new RegraftError('StepRunner.runSteps: only a plain step with a learning rate runs several steps at once');
    const all: Record<string, Tensor> = { ...feeds, [step.lr]: new Tensor('float32', lrs, [lrs.length]) };
    for (const name of this.stepReads) all[name] = this.carried.get(name)!;
    const out = await this.stepSession.run(all);
    for (const c of step.carried) this.carried.set(c.input, out[c.output]);
    return out[step.loss].data as Float32Array;
  }

  private async applyUpdate(lr: number): Promise<void> {
    const update = this.step.update!;
    const feeds: Record<string, Tensor> = { [update.lr]: scalar(lr) };
    for (const c of update.carried) feeds[c.input] = this.carried.get(c.input)!;
    for (const g of update.gradients) feeds[g.input] = this.accumulators.get(g.input)!;
    const out = await this.updateSession!.run(feeds);
    for (const c of update.carried) this.carried.set(c.input, out[c.output]);
    this.resetAccumulators();
  }
}
