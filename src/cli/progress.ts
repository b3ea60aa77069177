/**
 * Training progress on the console. On a terminal one status line on stderr is redrawn in place (carriage return
 * plus "erase line"), throttled so that printing never costs training time; in a pipe or a log file nothing is
 * written per batch, only the line `done` is given, so logs stay one line per epoch.
 */
import type { CliIo } from './context.js';

export interface ProgressOptions {
  totalBatches: number;
  /** 1-based epoch number shown as `epoch k/n`. */
  epoch: number;
  epochs: number;
  /** Where the redrawn line goes (default process.stderr); injectable for tests. */
  write?: (text: string) => void;
  /** Milliseconds clock (default performance.now); injectable for tests. */
  now?: () => number;
}

export interface Progress {
  update(batch: number, meanLoss: number, samplesPerSec: number): void;
  /** Clears the status line (on a terminal) and prints `line` through io.out. */
  done(line: string): void;
  /** Clears the status line (on a terminal), printing nothing: before an error line. */
  clear(): void;
}

/** At most ~10 redraws per second: faster is unreadable and, at 100k samples/s, measurably slow. */
export const REDRAW_INTERVAL_MS = 100;
const BAR_WIDTH = 24;
const CLEAR_LINE = '\r\x1b[2K';

export function createProgress(io: CliIo, opts: ProgressOptions): Progress {
  const write = opts.write ?? ((text: string) => void process.stderr.write(text));
  const now = opts.now ?? (() => performance.now());
  let lastDraw = -Infinity;
  let drawn = false;
  return {
    update(batch, meanLoss, samplesPerSec) {
      if (!io.isTty) return;
      const t = now();
      // The final batch is always drawn, so the bar never stops short of full.
      if (t - lastDraw < REDRAW_INTERVAL_MS && batch < opts.totalBatches) return;
      lastDraw = t;
      drawn = true;
      write(CLEAR_LINE + statusLine(opts, batch, meanLoss, samplesPerSec));
    },
    done(line) {
      this.clear();
      io.out(line);
    },
    clear() {
      if (drawn) write(CLEAR_LINE);
      drawn = false;
    },
  };
}

/** `epoch 2/10 [=========>              ] 412/938 loss 0.3141 52,310 samples/s` */
export function statusLine(opts: Pick<ProgressOptions, 'totalBatches' | 'epoch' | 'epochs'>, batch: number, meanLoss: number, samplesPerSec: number): string {
  const total = Math.max(opts.totalBatches, 1);
  const fraction = Math.min(Math.max(batch / total, 0), 1);
  const filled = Math.round(fraction * BAR_WIDTH);
  const bar = filled >= BAR_WIDTH ? '='.repeat(BAR_WIDTH) : '='.repeat(Math.max(filled - 1, 0)) + (filled > 0 ? '>' : '') + ' '.repeat(BAR_WIDTH - filled);
  const rate = Number.isFinite(samplesPerSec) ? Math.round(samplesPerSec).toLocaleString('en-US') : '-';
  return `epoch ${opts.epoch}/${opts.epochs} [${bar}] ${batch}/${opts.totalBatches} loss ${meanLoss.toFixed(4)} ${rate} samples/s`;
}
