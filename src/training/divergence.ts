/**
 * Divergence whose loss stays finite: Adam at lr 1e6 ends MNIST at a training loss of 1.2e9 and 9% accuracy, with
 * no NaN to stop it. The watch compares each epoch's mean training loss with the lowest training loss seen so far:
 * the epoch means, and the loss of the run's very first batch (the untrained model, so a run that diverges within
 * its first epoch is caught too). Past 100 times that, and above the loss the run started from, the run is
 * diverging: a healthy run's training loss does not grow a hundredfold, however noisy (single batches are not
 * compared: one lucky batch would set a bar that ordinary epochs cross), and a loss that grows from 1e-6 to 1e-4
 * but stays far below where it started is a fitted model's noise, not a divergence.
 */

/** How many times its lowest value the training loss may reach before the run counts as diverging. */
export const DIVERGENCE_FACTOR = 100;

export interface LossRecord {
  value: number;
  /** Where it was seen, for the message: `epoch 3`, `the first batch`. */
  where: string;
}

export class DivergenceWatch {
  private lowest: LossRecord | undefined;
  /** The first loss seen: the run's starting point (its first batch, or a resumed run's first epoch). */
  private first: number | undefined;

  /** Epoch means of a resumed run's earlier epochs count as seen. */
  constructor(earlierEpochs: readonly { epoch: number; train_loss: number }[] = []) {
    for (const m of earlierEpochs) this.see(m.train_loss, `epoch ${m.epoch}`);
  }

  /** Records a training loss; only finite values count. */
  see(value: number, where: string): void {
    if (Number.isFinite(value) && this.first === undefined) this.first = value;
    if (Number.isFinite(value) && (this.lowest === undefined || value < this.lowest.value)) this.lowest = { value, where };
  }

  /**
   * Checks an epoch's mean training loss (and records it): the problem, when it is over DIVERGENCE_FACTOR times the
   * lowest loss before it, or undefined.
   */
  check(epoch: number, meanLoss: number, lr: number): string | undefined {
    const lowest = this.lowest;
    this.see(meanLoss, `epoch ${epoch}`);
    if (lowest === undefined || !(meanLoss > DIVERGENCE_FACTOR * lowest.value) || !(meanLoss > this.first!)) return undefined;
    return `training loss ${short(meanLoss)} in epoch ${epoch} is over ${DIVERGENCE_FACTOR} times its lowest (${short(lowest.value)}, in ${lowest.where}): the run is diverging; lower the learning rate (--lr, now ${lr})`;
  }
}

/** Three significant digits; exponent form outside [0.001, 10000). */
function short(x: number): string {
  return Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toPrecision(3) : x.toExponential(2);
}
