import { describe, expect, it } from 'vitest';
import { renderLossCurveSvg } from '../../src/training/plot.js';

/** A tiny well-formedness check: every element closes in order, attributes are quoted, no stray '<' or '&'. */
function assertWellFormed(svg: string): void {
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(svg); m !== null; m = tag.exec(svg)) {
    const text = svg.slice(last, m.index);
    expect(text, `text before <${m[2]}>`).not.toMatch(/[<>]|&(?!(amp|lt|gt|quot|#39);)/);
    last = tag.lastIndex;
    const [, closing, name, , selfClosing] = m;
    if (closing) expect(stack.pop(), `closing </${name}>`).toBe(name);
    else if (!selfClosing) stack.push(name);
  }
  expect(svg.slice(last).trim()).toBe('');
  expect(stack).toEqual([]);
  expect(svg.startsWith('<svg ')).toBe(true);
}

function polylinePoints(svg: string): string[][] {
  return [...svg.matchAll(/<polyline points="([^"]*)"/g)].map((m) => m[1].split(' '));
}

const OPTS = { title: 'Loss', xLabel: 'epoch', yLabel: 'cross-entropy' };

describe('renderLossCurveSvg', () => {
  it('draws one polyline per series with one point per finite value, axes and a legend', () => {
    const svg = renderLossCurveSvg(
      [
        { name: 'train', points: [1, 2, 3, 4].map((x) => ({ x, y: 1 / x })) },
        { name: 'validation', points: [1, 2, 3].map((x) => ({ x, y: 1.2 / x })) },
      ],
      OPTS,
    );
    assertWellFormed(svg);
    expect(polylinePoints(svg).map((p) => p.length)).toEqual([4, 3]);
    expect(svg).toContain('>train</text>');
    expect(svg).toContain('>validation</text>');
    expect(svg).toContain('>epoch</text>');
    expect(svg).toContain('>cross-entropy</text>');
    // Integer epochs give integer x ticks.
    for (const x of ['1', '2', '3', '4']) expect(svg).toMatch(new RegExp(`text-anchor="middle"[^>]*>${x}</text>`));
  });

  it('maps larger y higher up, inside the plot area, with the y range padded', () => {
    const svg = renderLossCurveSvg([{ name: 'train', points: [{ x: 0, y: 2 }, { x: 1, y: 1 }] }], { ...OPTS, width: 400, height: 300 });
    const [[a, b]] = polylinePoints(svg).map((pts) => pts.map((p) => p.split(',').map(Number)));
    expect(a[1]).toBeLessThan(b[1]);
    // Padding: neither extreme sits on the plot border (top 48, bottom 300 - 48); the top one is 9 below it.
    expect(a[1]).toBeGreaterThan(56);
    expect(b[1]).toBeLessThan(252);
  });

  it('skips NaN and Infinity and handles a single point', () => {
    const svg = renderLossCurveSvg(
      [{ name: 'train', points: [{ x: 1, y: NaN }, { x: 2, y: 0.5 }, { x: 3, y: Infinity }] }],
      OPTS,
    );
    assertWellFormed(svg);
    const pts = polylinePoints(svg);
    expect(pts.map((p) => p.length)).toEqual([1]);
    expect(pts[0][0]).not.toMatch(/NaN|Infinity/);
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(svg.match(/<circle /g)).toHaveLength(1);
  });

  it('escapes text, so names cannot break the markup', () => {
    const svg = renderLossCurveSvg([{ name: '<script>&"x"', points: [{ x: 1, y: 1 }] }], { ...OPTS, title: 'a < b & c' });
    assertWellFormed(svg);
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;script&gt;&amp;&quot;x&quot;');
    expect(svg).toContain('a &lt; b &amp; c');
  });

  it('says so when there is nothing to draw', () => {
    const svg = renderLossCurveSvg([{ name: 'train', points: [{ x: 1, y: NaN }] }], OPTS);
    assertWellFormed(svg);
    expect(svg).toContain('no data');
    expect(polylinePoints(svg)).toEqual([]);
  });
});
