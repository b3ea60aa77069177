#!/usr/bin/env node
// A newcomer's first hour, as a check: clone the repository into a temporary folder, run the README's commands there
// (install, the quick start, the tests) with no Chromium on the PATH, and fail if any of them printed an npm warning
// or a Node warning, or failed.
//
//   node scripts/fresh-clone-check.mjs [REPO]   # clone REPO (default: this checkout) into a temporary folder
//   node scripts/fresh-clone-check.mjs --here   # run in this checkout, which must be a fresh clone (CI's is)
//
// CI runs the second form: its checkout is already a fresh clone, so the suite runs once.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The README's commands, in its order: install (Quick start), the quick start's training run, a command, the tests. */
export const README_COMMANDS = [
  ['npm', 'ci'],
  ['npm', 'run', 'mnist'],
  ['npx', 'regraft', 'inspect', 'models/lenet5.onnx'],
  ['npm', 'test'],
];

/** Names a Chromium or Chrome binary goes by on a PATH. */
export const CHROMIUM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome', 'headless_shell'];

/** Lines of npm's warnings (`npm warn ...`, `npm WARN ...` before npm 9) and of Node's process warnings. */
export function warningLines(output) {
  return output.split(/\r?\n/).filter((line) => /^npm warn\b/i.test(line) || /^\(node:\d+\) (\[\w+\] )?\w*Warning:/.test(line));
}

function isExecutableFile(path) {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * PATH with every Chromium binary hidden: a folder holding one is replaced by a folder (under `scratch`) of links to
 * everything else in it, so the other tools there (node, git, ...) stay reachable.
 */
export function pathWithoutChromium(path, scratch) {
  return path
    .split(delimiter)
    .filter(Boolean)
    .map((dir, i) => {
      if (!CHROMIUM_NAMES.some((name) => isExecutableFile(join(dir, name)))) return dir;
      const shadow = join(scratch, `path-${i}`);
      mkdirSync(shadow, { recursive: true });
      for (const entry of readdirSync(dir)) if (!CHROMIUM_NAMES.includes(entry)) symlinkSync(join(dir, entry), join(shadow, entry));
      return shadow;
    })
    .join(delimiter);
}

/** The environment of a newcomer's shell: no CHROMIUM override, no npm settings inherited from an outer npm run. */
export function newcomerEnv(env, scratch) {
  const clean = Object.fromEntries(Object.entries(env).filter(([k]) => !/^npm_/i.test(k) && k !== 'INIT_CWD' && k !== 'CHROMIUM'));
  clean.PATH = pathWithoutChromium(env.PATH ?? '', scratch);
  return clean;
}

/** Runs one command, echoing its output as it comes, and resolves to { code, output } (stdout and stderr interleaved). */
function runEchoed(argv, cwd, env) {
  return new Promise((done) => {
    const child = spawn(argv[0], argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const take = (stream, sink) =>
      stream.on('data', (chunk) => {
        output += chunk;
        sink.write(chunk);
      });
    take(child.stdout, process.stdout);
    take(child.stderr, process.stderr);
    child.on('error', (err) => done({ code: -1, output: `${output}\ncannot start ${argv[0]}: ${err.message}\n` }));
    child.on('close', (code, signal) => done({ code: code ?? (signal ? 128 : -1), output }));
  });
}

async function main(argv) {
  const here = argv[0] === '--here';
  if (argv.length > 1 || (argv[0]?.startsWith('-') && !here)) throw new Error('usage: node scripts/fresh-clone-check.mjs [REPO] | --here');
  const scratch = mkdtempSync(join(tmpdir(), 'regraft-fresh-clone-'));
  try {
    const env = newcomerEnv(process.env, join(scratch, 'bin'));
    let checkout = resolve(dirname(fileURLToPath(import.meta.url)), '..');
    if (!here) {
      const source = resolve(argv[0] ?? checkout);
      checkout = join(scratch, 'regraft');
      const clone = spawnSync('git', ['clone', '--quiet', source, checkout], { stdio: 'inherit', env });
      if (clone.status !== 0) throw new Error(`git clone ${source} failed`);
    } else if (existsSync(join(checkout, 'node_modules'))) {
      throw new Error(`--here needs a fresh clone, but ${checkout} has node_modules; clone it instead (give no --here)`);
    }
    const chromium = spawnSync('sh', ['-c', `command -v ${CHROMIUM_NAMES.join(' ')}`], { env, encoding: 'utf8' }).stdout.trim();
    if (chromium) throw new Error(`a Chromium is still on the PATH (${chromium}); this check must run without one`);

    const problems = [];
    for (const command of README_COMMANDS) {
      const shown = command.join(' ');
      process.stdout.write(`\n== fresh clone: ${shown} (in ${checkout})\n`);
      const started = Date.now();
      const { code, output } = await runEchoed(command, checkout, env);
      process.stdout.write(`== ${shown}: exit ${code} after ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
      for (const line of warningLines(output)) problems.push(`${shown} printed: ${line}`);
      if (code !== 0) {
        problems.push(`${shown} exited with ${code}`);
        break;
      }
    }
    if (problems.length > 0) throw new Error(`the README's commands on a fresh clone are not clean:\n  ${problems.join('\n  ')}`);
    process.stdout.write(`\nfresh clone: ${README_COMMANDS.map((c) => c.join(' ')).join(', ')} passed without warnings and without a Chromium on the PATH\n`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`fresh-clone-check: ${err.message}\n`);
    process.exitCode = 1;
  });
}
