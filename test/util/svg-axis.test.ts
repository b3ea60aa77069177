import { describe, expect, it } from 'vitest';
import { escapeXml, finiteExtent, formatTick, niceScale, niceStep, scaleFraction, svgCoord } from '../../src/util/svg-axis.js';

describe('niceStep', () => {
  it.each([
    [1, 0.2], // 1/5 is itself nice
    [10, 2],
    [0.6, 0.2], // 0.12 rounds up to 0.2
    [3, 1], // 0.6 rounds up to 1
    [7, 2], // 1.4 -> 2
    [20, 5], // 4 -> 5
    [30, 10], // 6 -> 10
    [2e-7, 5e-8],
    [3.5e9, 1e9],
  ])('cuts a span of %d into steps of %d', (span, step) => {
    expect(niceStep(span) / step).toBeCloseTo(1, 12);
  });

  it('honours the number of intervals asked for', () => {
    expect(niceStep(1, 10)).toBeCloseTo(0.1, 15);
    expect(niceStep(100, 2)).toBe(50);
  });

  it('refuses spans it cannot cut', () => {
    for (const span of [0, -1, NaN, Infinity]) expect(() => niceStep(span)).toThrow(RangeError);
  });
});

describe('niceScale', () => {
  it('gives 0, 0.2, ..., 1 for the range 0..1, with no floating-point noise', () => {
    const s = niceScale(0, 1);
    expect(s).toEqual({ lo: 0, hi: 1, step: 0.2, ticks: [0, 0.2, 0.4, 0.6, 0.8, 1] });
  });

  it('pads the range by a fraction of the span on each side and keeps ticks inside', () => {
    const s = niceScale(0, 10, { pad: 0.05 });
    expect(s.lo).toBeCloseTo(-0.5, 12);
    expect(s.hi).toBeCloseTo(10.5, 12);
    expect(s.step).toBe(5);
    expect(s.ticks).toEqual([0, 5, 10]);
  });

  it('puts a single value in the middle of a range of 10% of its size', () => {
    const s = niceScale(5, 5);
    expect(s.lo).toBeCloseTo(4.5, 12);
    expect(s.hi).toBeCloseTo(5.5, 12);
    expect(s.ticks).toEqual([4.6, 4.8, 5, 5.2, 5.4]);
    expect(scaleFraction(s, 5)).toBeCloseTo(0.5, 12);
  });

  it('gives zero a range of -1..1', () => {
    const s = niceScale(0, 0);
    expect([s.lo, s.hi]).toEqual([-1, 1]);
    expect(s.ticks).toEqual([-1, -0.5, 0, 0.5, 1]);
  });

  it('handles negative ranges, with 0 (not -0) where the axis crosses zero', () => {
    expect(niceScale(-10, -2).ticks).toEqual([-10, -8, -6, -4, -2]);
    const crossing = niceScale(-3, 2);
    expect(crossing.ticks).toEqual([-3, -2, -1, 0, 1, 2]);
    expect(Object.is(crossing.ticks[3], 0)).toBe(true);
    expect(Object.is(niceScale(-1, 0).ticks.at(-1), 0)).toBe(true);
  });

  it('keeps ticks on whole numbers for integer data, such as a single epoch', () => {
    expect(niceScale(2, 2, { integerStep: true }).ticks).toEqual([2]);
    expect(niceScale(1, 3, { integerStep: true })).toMatchObject({ step: 1, ticks: [1, 2, 3] });
    expect(niceScale(1, 3).ticks).toEqual([1, 1.5, 2, 2.5, 3]);
  });

  it('works at tiny and huge magnitudes', () => {
    const tiny = niceScale(1e-9, 5e-9);
    expect(tiny.ticks.map((t) => t / 1e-9)).toEqual([1, 2, 3, 4, 5].map((k) => expect.closeTo(k, 9)));
    expect(niceScale(0, 4e12).ticks).toEqual([0, 1e12, 2e12, 3e12, 4e12]);
  });

  it('refuses a range it cannot draw', () => {
    expect(() => niceScale(NaN, 1)).toThrow(RangeError);
    expect(() => niceScale(0, Infinity)).toThrow(RangeError);
    expect(() => niceScale(2, 1)).toThrow(RangeError);
  });
});

describe('finiteExtent', () => {
  it('skips NaN and infinities and says when nothing is left', () => {
    expect(finiteExtent([3, NaN, -2, Infinity, 7, -Infinity])).toEqual([-2, 7]);
    expect(finiteExtent([NaN, Infinity])).toBeNull();
    expect(finiteExtent([])).toBeNull();
  });

  it('copes with more values than a spread into Math.min could take', () => {
    const many = Float64Array.from({ length: 300_000 }, (_, i) => i - 1000);
    expect(finiteExtent(many)).toEqual([-1000, 298_999]);
  });
});

describe('formatTick', () => {
  it('drops floating-point noise and trailing zeros', () => {
    expect(formatTick(0.30000000000000004, 0.1)).toBe('0.3');
    expect(formatTick(0.5, 0.05)).toBe('0.5');
    expect(formatTick(0.05, 0.05)).toBe('0.05');
    expect(formatTick(200_000, 50_000)).toBe('200000');
    expect(formatTick(-0.4, 0.2)).toBe('-0.4');
    expect(formatTick(0, 0.2)).toBe('0');
  });

  it('shows as many digits as the step needs to tell neighbours apart', () => {
    expect([1000, 1000.2, 1000.4].map((v) => formatTick(v, 0.2))).toEqual(['1000', '1000.2', '1000.4']);
    expect([0.0025212, 0.0025214].map((v) => formatTick(v, 2e-7))).toEqual(['0.0025212', '0.0025214']);
  });

  it('uses exponent form below 1e-3 and from 1e6, with the digits the step needs', () => {
    expect(formatTick(2e-4, 1e-4)).toBe('2.0e-4');
    expect(formatTick(-3.535e-4, 5e-7)).toBe('-3.535e-4');
    expect(formatTick(1e6, 2e5)).toBe('1.0e+6');
    expect(formatTick(1.2e6, 2e5)).toBe('1.2e+6');
    expect(formatTick(-1.30655e6, 50)).toBe('-1.30655e+6');
    expect(formatTick(999_999, 1)).toBe('999999');
    expect(formatTick(0.001, 0.001)).toBe('0.001');
  });
});

describe('svg text helpers', () => {
  it('rounds coordinates to a tenth', () => {
    expect(svgCoord(12.345)).toBe('12.3');
    expect(svgCoord(64)).toBe('64.0');
  });

  it('escapes every character that could end text or an attribute', () => {
    expect(escapeXml(`<a href="x">&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;');
  });
});
