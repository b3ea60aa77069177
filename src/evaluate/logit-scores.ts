/**
 * Scoring class logits against integer labels, in float64: mean softmax cross-entropy, accuracy and the confusion
 * matrix over every counted position. The one copy of this arithmetic: classification.ts scores a feature model's
 * [N, C] logits with it (one position per row) and array-scores.ts the logits of a model fed named arrays (labels
 * per position, classes last or on axis 1, causal-lm's next-token pairs).
 */
import { RegraftError } from '../errors.js';
import type { EvalMetrics } from './classification.js';

/** Where each labelled position's class scores lie in one batch of logits. */
export interface LogitsLayout {
  /** N, the rows of the batch. */
  rows: number;
  /** Labelled positions per row: 1 for [N, C], T for [N, T, V], H * W for [N, C, H, W]. */
  positions: number;
  /** C, the scores of one position. */
  classes: number;
  /**
   * Classes on axis 1 of [N, C, d1, ...]: class c of a position lies `positions` elements after class c - 1.
   * Otherwise ([N, C] or classes last) a position's scores are contiguous.
   */
  classesOnAxis1: boolean;
}

/** What the errors name: the logits (e.g. "output 'y' of model m.onnx") and one labelled item (e.g. "a sample of d"). */
export interface ScoredNames {
  logits: string;
  label: string;
}

export interface LogitScoresOptions {
  /** causal-lm: position p's logits predict label p + 1; the last position predicts nothing. */
  causal?: boolean;
  /** Positions labelled with this do not count (default: every position counts). */
  ignoreIndex?: number;
  /** Widest logits whose confusion matrix is kept (default: any width). */
  maxConfusionClasses?: number;
}

/** Accumulates loss, hits and the confusion matrix over batches. */
export class LogitScores {
  private lossSum = 0;
  private hits = 0;
  private countedPositions = 0;
  private classes: number | undefined;
  private confusion: number[][] = [];

  constructor(private readonly opts: LogitScoresOptions = {}) {}

  /** Positions scored so far: those labelled with the ignore index (and causal-lm's last) are not. */
  get counted(): number {
    return this.countedPositions;
  }

  /** Scores one batch: `labels` holds `layout.rows * layout.positions` labels, row by row. */
  add(logits: Float32Array | Float64Array, layout: LogitsLayout, labels: BigInt64Array, names: ScoredNames): void {
    const { rows, positions, classes, classesOnAxis1 } = layout;
    if (this.classes === undefined) {
      this.classes = classes;
      if (classes <= (this.opts.maxConfusionClasses ?? Infinity)) this.confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
    } else if (classes !== this.classes) {
      throw new RegraftError(`${names.logits} changed width from ${this.classes} to ${classes} between batches`);
    }
    const causal = this.opts.causal ?? false;
    const ignore = this.opts.ignoreIndex === undefined ? undefined : BigInt(this.opts.ignoreIndex);
    const stride = classesOnAxis1 ? positions : 1;
    for (let n = 0; n < rows; n++) {
      for (let p = 0; p < positions; p++) {
        if (causal && p === positions - 1) continue;
        const y = labels[n * positions + (causal ? p + 1 : p)];
        if (y === ignore) continue;
        const label = Number(y);
        if (label < 0 || label >= classes) throw new RegraftError(`${names.label} has label ${label} but ${names.logits} has only ${classes} classes`);
        // Class c of position p of row n lies at base + c * stride.
        const base = classesOnAxis1 ? n * classes * positions + p : (n * positions + p) * classes;
        // log-sum-exp shifted by the max: exp never overflows, and the largest term is exactly 1.
        let max = -Infinity;
        let argmax = 0;
        for (let c = 0; c < classes; c++) {
          const v = logits[base + c * stride];
          if (v > max) {
            max = v;
            argmax = c;
          }
        }
        let sumExp = 0;
        for (let c = 0; c < classes; c++) sumExp += Math.exp(logits[base + c * stride] - max);
        this.lossSum += max + Math.log(sumExp) - logits[base + label * stride];
        if (argmax === label) this.hits++;
        if (this.confusion.length > 0) this.confusion[label][argmax]++;
        this.countedPositions++;
      }
    }
  }

  /** The means over the counted positions, for an evaluation of `samples` rows. */
  metrics(samples: number): EvalMetrics {
    return {
      samples,
      loss: this.lossSum / this.countedPositions,
      accuracy: this.hits / this.countedPositions,
      confusion: this.confusion,
      numClasses: this.classes ?? 0,
    };
  }
}
