/** The learning-rate schedule: the rate at any point of a run, from the run's settings. */

export const SCHEDULES = ['constant', 'step', 'cosine'] as const;
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
 */
export function learningRate(
  c: ScheduleSettings,
  epoch: number,
  progress = 0,
  stepsPerEpoch = 1,
): number {
  const scheduled = scheduledRate(c, epoch, progress);
  if (!c.warmup) return scheduled;
  const warmupSteps = Math.max(1, Math.round(c.warmup * stepsPerEpoch));
  const step = Math.round((epoch + progress) * stepsPerEpoch) + 1;
  return scheduled * Math.min(1, step / warmupSteps);
}

function scheduledRate(c: ScheduleSettings, epoch: number, progress: number): number {
  switch (c.schedule) {
    case 'constant':
      return c.lr;
    case 'step':
      return c.lr * c.gamma ** Math.floor(epoch / c.stepSize);
    case 'cosine':
      return 0.5 * c.lr * (1 + Math.cos((Math.PI * (epoch + progress)) / c.epochs));
  }
}
