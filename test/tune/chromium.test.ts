import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { tune, type Params, type TrialContext } from '../../src/tune/index.js';
import { runCli } from '../cli/helpers.js';
import { bundledChromium } from '../../scripts/bundled-chromium.mjs';

// The HTML report of a finished study, rendered by a real browser: the headless Chromium that `npm ci` installs
// (the devDependency @sparticuz/chromium, unpacked by scripts/bundled-chromium.mjs), so a fresh clone renders it
// with nothing on the machine but Node and npm. Without it these tests fail, on purpose: CI must render the page.
const here = dirname(fileURLToPath(import.meta.url));
const script = resolve(here, '..', '..', 'scripts', 'screenshot-report.mjs');

interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs scripts/screenshot-report.mjs as a user would; it kills Chromium itself after 60 s, this is a backstop. */
function runScript(...args: string[]): Promise<ScriptRun> {
  return new Promise((resolvePromise) => {
    execFile(process.execPath, [script, ...args], { timeout: 90_000, killSignal: 'SIGKILL', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** A study with complete, pruned and failed trials, run in-process on a synthetic objective, reported via the CLI. */
async function reportOfMixedStudy(): Promise<{ html: string; trials: number; charts: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'regraft-chromium-test-'));
  const studyPath = join(dir, 'study.db');
  await tune({
    config: {
      name: 'mnist <mlp> & friends',
      space: { lr: { loguniform: [1e-3, 0.3] }, batchSize: { categorical: [32, 64, 128] }, dropoutRatio: { uniform: [0, 0.6] }, epochs: 6 },
      objective: { metric: 'val_accuracy', mode: 'max' },
      strategy: 'random',
      trials: 12,
      seed: 5,
      pruner: { asha: { minEpochs: 2, eta: 2 } },
    },
    trialFunction: async (params: Params, ctx: TrialContext) => {
      if (ctx.trialId === 5) throw new Error('train: loss became NaN at epoch 1, batch 3; lower the learning rate');
      const quality = 0.95 - Math.abs(Math.log10(params.lr as number) + 1.5) / 3 - (params.dropoutRatio as number) / 5;
      let accuracy = 0;
      for (let epoch = 1; epoch <= 6; epoch++) {
        accuracy = quality * (1 - Math.exp(-epoch / 2));
        if ((await ctx.report(epoch, { val_accuracy: accuracy })) === 'stop') break;
      }
      return { val_accuracy: accuracy };
    },
    studyPath,
  });
  const html = join(dir, 'report.html');
  const run = await runCli('tune', 'report', studyPath, '--html', html);
  expect(run.code).toBe(0);
  // objective by trial, one chart per searched parameter (lr, batchSize, dropoutRatio), learning curves
  return { html, trials: 12, charts: 6 }; // 5 charts + parallel coordinates
}

interface Png {
  width: number;
  height: number;
  channels: number;
  /** Unfiltered rows, `channels` bytes per pixel. */
  pixels: Uint8Array;
}

/** Decodes the 8-bit, non-interlaced RGB(A) PNGs Chromium writes; throws on anything else or a damaged file. */
function decodePng(bytes: Buffer): Png {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!signature.every((b, i) => bytes[i] === b)) throw new Error('not a PNG: bad signature');
  let offset = 8;
  let header: { width: number; height: number; bitDepth: number; colorType: number; interlace: number } | undefined;
  const idat: Buffer[] = [];
  while (offset < bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      header = { width: data.readUInt32BE(0), height: data.readUInt32BE(4), bitDepth: data[8], colorType: data[9], interlace: data[12] };
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    offset += 12 + length;
  }
  if (!header) throw new Error('PNG without IHDR');
  const channels = header.colorType === 6 ? 4 : header.colorType === 2 ? 3 : 0;
  if (header.bitDepth !== 8 || channels === 0 || header.interlace !== 0) {
    throw new Error(`unexpected PNG format: bit depth ${header.bitDepth}, color type ${header.colorType}, interlace ${header.interlace}`);
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = header.width * channels;
  if (raw.length !== header.height * (stride + 1)) throw new Error(`PNG image data has ${raw.length} bytes, expected ${header.height * (stride + 1)}`);
  const pixels = new Uint8Array(header.height * stride);
  for (let y = 0; y < header.height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = y * stride;
    for (let x = 0; x < stride; x++) {
      const left = x >= channels ? pixels[row + x - channels] : 0;
      const up = y > 0 ? pixels[row - stride + x] : 0;
      const upLeft = y > 0 && x >= channels ? pixels[row - stride + x - channels] : 0;
      const predictor = [0, left, up, (left + up) >> 1, paeth(left, up, upLeft)][filter];
      if (predictor === undefined) throw new Error(`PNG row ${y} has unknown filter ${filter}`);
      pixels[row + x] = (line[x] + predictor) & 0xff;
    }
  }
  return { width: header.width, height: header.height, channels, pixels };
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** How many pixels have exactly each RGB color, keyed '#rrggbb'. */
function colorHistogram(png: Png): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < png.pixels.length; i += png.channels) {
    const key = '#' + [0, 1, 2].map((c) => png.pixels[i + c].toString(16).padStart(2, '0')).join('');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

describe('the HTML report in headless Chromium', () => {
  let report: { html: string; trials: number; charts: number };

  beforeAll(async () => {
    report = await reportOfMixedStudy();
  });

  it('finds Chromium', async () => {
    const { executablePath: chromium } = await bundledChromium();
    expect(existsSync(chromium), `Chromium is missing at ${chromium}: run \`npm ci\` (it installs @sparticuz/chromium)`).toBe(true);
  });

  it('screenshots the report as a 1200x2000 PNG with the charts drawn in their colors', async () => {
    const png = join(dirname(report.html), 'report.png');
    const run = await runScript(report.html, png);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(`wrote ${png} (1200x2000)`);

    const image = decodePng(readFileSync(png));
    expect([image.width, image.height]).toEqual([1200, 2000]);
    const colors = colorHistogram(image);
    const pixels = image.width * image.height;
    const white = colors.get('#ffffff') ?? 0;
    expect(white / pixels).toBeLessThan(0.97); // not blank
    expect(white / pixels).toBeGreaterThan(0.3); // a page, not a solid fill
    expect(colors.size).toBeGreaterThan(100); // text and lines are anti-aliased: many shades
    // The markers of complete (#1f77b4) and pruned (#ff7f0e) trials: solid discs, so their centers keep the exact color.
    expect(colors.get('#1f77b4') ?? 0).toBeGreaterThan(50);
    expect(colors.get('#ff7f0e') ?? 0).toBeGreaterThan(50);
  });

  it('builds a DOM with every SVG chart and the ranked table, and logs nothing to the console', async () => {
    const run = await runScript('--dump-dom', report.html);
    expect(run.stderr).toBe(''); // the script fails, naming the message, when the page logs to the console
    expect(run.code).toBe(0);
    const dom = run.stdout;
    expect(dom.match(/<svg[\s>]/g)).toHaveLength(report.charts);
    expect(dom).toContain('val_accuracy vs lr');
    expect(dom.match(/<circle[\s>]/g)?.length ?? 0).toBeGreaterThan(report.trials);
    expect(dom.match(/<tr class="(complete|pruned|failed)">/g)).toHaveLength(report.trials);
    const ranks = [...dom.matchAll(/<tr class="[a-z]+"><td>(\d+)<\/td>/g)].map((m) => Number(m[1]));
    expect(ranks).toEqual(Array.from({ length: report.trials }, (_, i) => i + 1));
    expect(dom).toMatch(/<tr class="failed">.*loss became NaN/);
    // The study's name reached the browser as text, not as a <mlp> element.
    expect(dom).toContain('regraft tuning report: mnist &lt;mlp&gt; &amp; friends');
    expect(dom).not.toMatch(/<mlp[\s>]/);
  });

  it('catches a page that throws in the browser (the check above can fail)', async () => {
    const run = await runScript('--dump-dom', join(here, 'fixtures', 'console-error.html'));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/console-error\.html logged 1 console message\(s\), first: "Uncaught ReferenceError: reportNotDefined is not defined"/);
  });
});
