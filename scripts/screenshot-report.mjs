#!/usr/bin/env node
// Renders a `regraft tune` HTML report in headless Chromium: a PNG screenshot, or the DOM as Chromium built it.
// Fails (exit 1) when the page logs to the console or throws: the report is static HTML with no script, so Chromium
// has no reason to log anything.
//
//   node scripts/screenshot-report.mjs report.html out.png      # screenshot, 1200x2000
//   node scripts/screenshot-report.mjs --dump-dom report.html   # print the rendered DOM
//
// The browser is the one `npm ci` installs (scripts/bundled-chromium.mjs), driven over the DevTools protocol by
// playwright-core; set CHROMIUM to a binary to use another.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { bundledChromium } from './bundled-chromium.mjs';

export const WINDOW_SIZE = { width: 1200, height: 2000 };
const TIMEOUT_MS = 60_000;

// Headless and hermetic: no GPU, no sandbox (containers, root), and no network traffic of Chromium's own
// (updates, sync, field trials), so a run depends on nothing but the page. playwright adds --headless and the
// fresh --user-data-dir of each run.
export const BROWSER_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Opens `htmlPath` in a fresh profile (deleted afterwards), lets `use(page)` read it, and closes the browser.
 * Resolves to { result, consoleMessages }: every console call and uncaught error of the page, formatted as
 * Chromium's own log writes them (`"<message>", source: <url> (<line>)`). Rejects when the browser cannot start or
 * the whole run exceeds `timeoutMs`.
 */
export async function withPage(htmlPath, use, { timeoutMs = TIMEOUT_MS } = {}) {
  if (!existsSync(htmlPath)) throw new Error(`${htmlPath}: no such file; give the HTML report to render`);
  const { executablePath, env } = await bundledChromium();
  const profile = mkdtempSync(join(tmpdir(), 'regraft-chromium-'));
  let context;
  let timer;
  try {
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Chromium did not finish rendering ${htmlPath} within ${timeoutMs / 1000} s; stopped it`)), timeoutMs);
    });
    const run = async () => {
      context = await chromium
        .launchPersistentContext(profile, { executablePath, env, headless: true, args: BROWSER_FLAGS, viewport: WINDOW_SIZE, deviceScaleFactor: 1, timeout: timeoutMs })
        .catch((err) => {
          throw new Error(`cannot start Chromium (${executablePath}): ${err.message.split('\n')[0]}`);
        });
      const page = context.pages()[0] ?? (await context.newPage());
      const consoleMessages = [];
      page.on('console', (msg) => {
        const { url, lineNumber } = msg.location();
        consoleMessages.push(`${JSON.stringify(msg.text())}, source: ${url} (${lineNumber + 1})`);
      });
      page.on('pageerror', (err) => consoleMessages.push(`${JSON.stringify(`Uncaught ${err.name}: ${err.message}`)}, source: ${page.url()}`));
      await page.goto(pathToFileURL(resolve(htmlPath)).href, { waitUntil: 'load', timeout: timeoutMs });
      return { result: await use(page), consoleMessages };
    };
    return await Promise.race([run(), timeout]);
  } finally {
    clearTimeout(timer);
    await context?.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Saves a PNG of the page at 1200x2000; rejects if the page logged to the console. */
export async function screenshotReport(htmlPath, pngPath) {
  const out = resolve(pngPath);
  rmSync(out, { force: true }); // a stale file must not pass for a new screenshot
  const { consoleMessages } = await withPage(htmlPath, (page) => page.screenshot({ path: out, type: 'png' }));
  if (!existsSync(out)) throw new Error(`Chromium finished without writing ${out}`);
  failOnConsoleMessages(htmlPath, consoleMessages);
  return { pngPath: out, consoleMessages };
}

/** The DOM after parsing and layout, serialized by Chromium; rejects if the page logged to the console. */
export async function dumpDom(htmlPath) {
  const { result, consoleMessages } = await withPage(htmlPath, (page) => page.content());
  failOnConsoleMessages(htmlPath, consoleMessages);
  return result;
}

function failOnConsoleMessages(htmlPath, messages) {
  if (messages.length > 0) {
    throw new Error(`${htmlPath} logged ${messages.length} console message(s), first: ${messages[0]}`);
  }
}

async function cli(argv) {
  if (argv[0] === '--dump-dom' && argv.length === 2) {
    process.stdout.write(await dumpDom(argv[1]));
    return;
  }
  if (argv.length !== 2 || argv[0].startsWith('-')) {
    throw new Error('usage: node scripts/screenshot-report.mjs REPORT.html OUT.png | --dump-dom REPORT.html');
  }
  const { pngPath } = await screenshotReport(argv[0], argv[1]);
  process.stdout.write(`wrote ${pngPath} (${WINDOW_SIZE.width}x${WINDOW_SIZE.height})\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`screenshot-report: ${err.message}\n`);
    process.exitCode = 1;
  });
}
