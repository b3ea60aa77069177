#!/usr/bin/env node
// Renders a `regraft tune` HTML report in headless Chromium: a PNG screenshot, or the DOM as Chromium built it.
// Fails (exit 1) when the page logs to the console, e.g. an uncaught error: the report is static HTML with no
// script, so Chromium has no reason to log anything.
//
//   node scripts/screenshot-report.mjs report.html out.png      # screenshot, 1200x2000
//   node scripts/screenshot-report.mjs --dump-dom report.html   # print the rendered DOM
//
// Needs Debian's `chromium` package at /usr/bin/chromium (or the CHROMIUM environment variable set to a binary).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';
export const WINDOW_SIZE = { width: 1200, height: 2000 };
const TIMEOUT_MS = 60_000;

// Headless and hermetic: no GPU, no sandbox (containers, root), and no network traffic of Chromium's own
// (updates, sync, field trials), so a run depends on nothing but the page.
const BASE_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Console messages go to stderr as `...:CONSOLE:<line>] "<message>", source: <url> (<line>)`.
  '--enable-logging=stderr',
  '--v=0',
];

export function chromiumPath() {
  const path = process.env.CHROMIUM || DEFAULT_CHROMIUM;
  if (!existsSync(path)) {
    throw new Error(`Chromium not found at ${path}: install Debian's 'chromium' package (apt-get install chromium) or set CHROMIUM to its binary`);
  }
  return path;
}

/**
 * Runs Chromium with the hermetic flags plus `args` on `htmlPath`, in a fresh profile that is deleted afterwards.
 * Chromium starts helper processes, so it runs in its own process group and the whole group is killed on timeout.
 * Resolves to { stdout, stderr, consoleMessages }; rejects when Chromium fails or times out.
 */
export function runChromium(htmlPath, args, { timeoutMs = TIMEOUT_MS } = {}) {
  const binary = chromiumPath();
  if (!existsSync(htmlPath)) return Promise.reject(new Error(`${htmlPath}: no such file; give the HTML report to render`));
  const profile = mkdtempSync(join(tmpdir(), 'regraft-chromium-'));
  const url = pathToFileURL(resolve(htmlPath)).href;
  const child = spawn(binary, [...BASE_FLAGS, `--user-data-dir=${profile}`, ...args, url], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      killGroup(child.pid);
      reject(new Error(`Chromium did not finish rendering ${htmlPath} within ${timeoutMs / 1000} s; killed it`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot start Chromium (${binary}): ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      killGroup(child.pid); // helpers that outlived the browser process
      rmSync(profile, { recursive: true, force: true });
      if (code !== 0) {
        const last = stderr.trim().split('\n').slice(-3).join(' | ');
        reject(new Error(`Chromium exited with ${signal ?? `code ${code}`} rendering ${htmlPath}: ${last}`));
        return;
      }
      resolvePromise({ stdout, stderr, consoleMessages: consoleMessages(stderr) });
    });
  });
}

function killGroup(pid) {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group is already gone
  }
}

/** Console lines of Chromium's log: `Uncaught ...` errors and every console.* call, whatever its level. */
export function consoleMessages(stderr) {
  return stderr.split('\n').filter((line) => /:CONSOLE[:(\]]/.test(line) || line.includes('Uncaught'));
}

/** Saves a PNG of the page at 1200x2000; rejects if the page logged to the console. */
export async function screenshotReport(htmlPath, pngPath) {
  const out = resolve(pngPath);
  rmSync(out, { force: true }); // a stale file must not pass for a new screenshot
  const run = await runChromium(htmlPath, [`--screenshot=${out}`, `--window-size=${WINDOW_SIZE.width},${WINDOW_SIZE.height}`]);
  if (!existsSync(out)) throw new Error(`Chromium exited without writing ${out}: ${run.stderr.trim().split('\n').pop()}`);
  failOnConsoleMessages(htmlPath, run.consoleMessages);
  return { pngPath: out, ...run };
}

/** The DOM after parsing and layout, serialized by Chromium; rejects if the page logged to the console. */
export async function dumpDom(htmlPath) {
  const run = await runChromium(htmlPath, ['--dump-dom']);
  failOnConsoleMessages(htmlPath, run.consoleMessages);
  return run.stdout;
}

function failOnConsoleMessages(htmlPath, messages) {
  if (messages.length > 0) {
    throw new Error(`${htmlPath} logged ${messages.length} console message(s), first: ${messages[0].replace(/^\[[^\]]*\]\s*/, '')}`);
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
