import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/context.js';
import { createProgress, statusLine } from '../../src/cli/progress.js';

function harness(isTty: boolean) {
  const out: string[] = [];
  const written: string[] = [];
  let clock = 0;
  const io: CliIo = { out: (l) => out.push(l), err: (l) => out.push(`ERR ${l}`), isTty };
  const progress = createProgress(io, { totalBatches: 10, epoch: 2, epochs: 5, write: (t) => written.push(t), now: () => clock });
  return { out, written, progress, advance: (ms: number) => (clock += ms) };
}

describe('createProgress', () => {
  it('on a TTY redraws one line in place, at most every 100 ms, and always draws the last batch', () => {
    const h = harness(true);
    h.progress.update(1, 2.5, 1000);
    h.advance(30);
    h.progress.update(2, 2.4, 1000); // throttled
    h.advance(80);
    h.progress.update(3, 2.3, 1000);
    h.advance(1);
    h.progress.update(10, 2.0, 1234.4); // last batch: drawn despite the throttle
    expect(h.written).toHaveLength(3);
    for (const w of h.written) expect(w.startsWith('\r\x1b[2K')).toBe(true);
    expect(h.written[1]).toContain(' 3/10 loss 2.3000 ');
    expect(h.written[2]).toBe('\r\x1b[2Kepoch 2/5 [========================] 10/10 loss 2.0000 1,234 samples/s');
    expect(h.out).toEqual([]);

    h.progress.done('epoch 2/5 loss 2.0000');
    expect(h.written.at(-1)).toBe('\r\x1b[2K');
    expect(h.out).toEqual(['epoch 2/5 loss 2.0000']);
  });

  it('off a TTY writes nothing per batch, only the done line', () => {
    const h = harness(false);
    for (let b = 1; b <= 10; b++) {
      h.advance(500);
      h.progress.update(b, 1, 100);
    }
    h.progress.done('epoch 2/5 loss 1.0000');
    expect(h.written).toEqual([]);
    expect(h.out).toEqual(['epoch 2/5 loss 1.0000']);
  });
});

describe('statusLine', () => {
  it('fills the bar in proportion to the batches done', () => {
    const opts = { totalBatches: 4, epoch: 1, epochs: 1 };
    const bar = (b: number) => /\[(.*)\]/.exec(statusLine(opts, b, 0, 0))![1];
    expect(bar(0)).toBe(' '.repeat(24));
    expect(bar(2)).toBe('='.repeat(11) + '>' + ' '.repeat(12));
    expect(bar(4)).toBe('='.repeat(24));
    expect(statusLine(opts, 1, NaN, Infinity)).toContain('loss NaN - samples/s');
  });
});
