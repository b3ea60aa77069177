/**
 * The train step's onnxruntime session for each epoch of a run: of the step itself, or of the scan-steps model
 * that runs several steps at once (compile/scan-steps.ts).
 */
import type { Model } from '../ir/model.js';
import { modelToBytes } from '../model-io.js';
import { scanStepsModel, type ScanStepsNames } from '../compile/scan-steps.js';
import { createSession, type Session, type SessionOptions } from '../runtime/session.js';

/**
 * What the sessions of a training step (and of an accumulating step's update) set beyond the run's options: no
 * onnxruntime memory pattern. Without it the ResNet-18 step's peak RSS fell from 757-780 to 701-709 MiB, at the same
 * speed (0.975x the time per step for ResNet-18, 1.006x for the MLP, alternating in one process).
 */
export const STEP_SESSION_OPTIONS: SessionOptions = { memoryPattern: false };

/** Ops whose results depend on their random generator's state, which lives in the session. */
const RANDOM_OPS = new Set(['Dropout', 'RandomUniform', 'RandomNormal', 'RandomUniformLike', 'RandomNormalLike', 'Multinomial', 'Bernoulli']);

/**
 * The step's session for each epoch. With Dropout, each epoch gets a session whose Dropout seeds are derived from
 * (seed, epoch), so that an epoch's masks replay exactly after a resume. A step with no random op computes the same
 * whatever session runs it: one session serves the whole run (a ResNet-18 step takes seconds to open, and a fresh
 * session's first steps grow its memory arena again).
 */
export class StepSessions {
  private session: Session | undefined;
  private readonly perEpoch: boolean;

  constructor(
    private readonly model: Model,
    private readonly seed: number,
    private readonly options: SessionOptions,
    /** Set: the sessions run the scan-steps model of `model` with these names. */
    private readonly scan?: ScanStepsNames,
  ) {
    this.perEpoch = model.graph.nodes.some((n) => RANDOM_OPS.has(n.opType));
  }

  async forEpoch(epoch: number): Promise<Session> {
    if (this.session) return this.session;
    this.model.graph.nodes
      .filter((n) => n.opType === 'Dropout')
      .forEach((n, i) => n.setAttribute('seed', dropoutSeed(this.seed, epoch, i)));
    // Made after the seeds are set: the scan-steps model holds its own copy of the step.
    const model = this.scan ? scanStepsModel(this.model, this.scan) : this.model;
    this.session = await createSession(modelToBytes(model), { ...this.options, ...STEP_SESSION_OPTIONS, name: 'train step' });
    return this.session;
  }

  /** Releases the epoch's session when the next epoch needs its own. */
  async endEpoch(): Promise<void> {
    if (this.perEpoch) await this.release();
  }

  async release(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.release();
  }
}

/** A distinct, reproducible seed per (run seed, epoch, Dropout node); positive 31-bit, as Dropout's INT seed. */
function dropoutSeed(seed: number, epoch: number, index: number): number {
  return (Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35)) >>> 1;
}
