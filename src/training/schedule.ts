/** The learning-rate schedule: the rate at any point of a run, from the run's settings. */

export const SCHEDULES = ['constant', 'step', 'cosine', 'linear'] as const;
export type ScheduleKind = (typeof SCHEDULES)[number];

/** The settings of a TrainConfig the schedule reads. */
export interface ScheduleSettings {
  lr: number;
  schedule: ScheduleKind;
  /** step schedule: multiply lr by `gamma` every `stepSize` epochs. */
  stepSize: number;
  gamma: number;
  epochs: number;
  /** Epochs (fractions allowed) over which lr rises linearly to the scheduled rate; 0 or absent: no warmup. */
  warmup?: number;
}

/**
 * Learning rate at a point of the run: `epoch` is 0-based and `progress` in [0, 1) says how far into that epoch
 * (batch index / `stepsPerEpoch`). step: multiply by gamma every stepSize epochs; cosine: anneal from lr to 0 over
 * the whole run, updated every batch (SGDR without restarts). A warmup scales that linearly, per step: the k-th
 * step (1-based) of a warmup of W steps runs at k/W of the rate, as PyTorch's LinearLR does.
 * linear: Hugging Face's get_linear_schedule_with_warmup, warmup included: optimizer step s (0-based) of T runs at
 * lr * s / W while s < W, then at lr * max(0, (T - s) / (T - W)) (so the first step runs at 0 when W > 0, as in
 * the Trainer, and the rate reaches 0 at the end of the run). `stepsPerEpoch` counts optimizer updates.
 */
export function learningRate(
  c: ScheduleSettings,
  epoch: number,
  progress = 0,
  stepsPerEpoch = 1,
): number {
  if (c.schedule === 'linear') return c.lr * linearFactor(c, epoch, progress, stepsPerEpoch);
  const scheduled = scheduledRate(c, epoch, progress);
  if (!c.warmup) return scheduled;
  const warmupSteps = Math.max(1, Math.round(c.warmup * stepsPerEpoch));
  const step = Math.round((epoch + progress) * stepsPerEpoch) + 1;
  return scheduled * Math.min(1, step / warmupSteps);
}

/** get_linear_schedule_with_warmup's lr_lambda at step s, with W = warmup epochs and T = all epochs, in steps. */
function linearFactor(c: ScheduleSettings, epoch: number, progress: number, stepsPerEpoch: number): number {
  const step = Math.round((epoch + progress) * stepsPerEpoch);
  const total = c.epochs * stepsPerEpoch;
  const warmup = Math.round((c.warmup ?? 0) * stepsPerEpoch);
  if (step < warmup) return step / Math.max(1, warmup);
  return Math.max(0, (total - step) / Math.max(1, total - warmup));
}

function scheduledRate(c: ScheduleSettings, epoch: number, progress: number): number {
  switch (c.schedule) {
    case 'constant':
      return c.lr;
    case 'step':
      return c.lr * c.gamma ** Math.floor(epoch / c.stepSize);
    case 'cosine':
      return 0.5 * c.lr * (1 + Math.cos((Math.PI * (epoch + progress)) / c.epochs));
    case 'linear':
      throw new Error('the linear schedule is computed with its warmup (linearFactor)');
  }
}
