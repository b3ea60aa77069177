#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/ (built by `npm ci` through the prepare script).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// `regraft inspect m.onnx | head`: a reader that stops early is not an error worth a stack trace.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** One line for a CLI that cannot even load: not built, or a dependency gone; undefined for anything else. */
function whyNotLoaded(err) {
  if (err?.code === 'ERR_MODULE_NOT_FOUND') {
    const pkg = /Cannot find package '([^']+)'/.exec(err.message)?.[1];
    if (pkg) return `cannot load ${pkg}, which regraft needs (${root}): run \`npm install\` to restore regraft's dependencies`;
    if (err.message.includes(join(root, 'dist'))) return `the CLI is not built (${join(root, 'dist', 'cli', 'main.js')} is missing): run \`npm run build\` in ${root}`;
  }
  if (err?.name === 'RegraftError') return err.message;
  return undefined;
}

let main;
try {
  ({ main } = await import('../dist/cli/main.js'));
} catch (err) {
  const why = whyNotLoaded(err);
  if (why === undefined || process.env.REGRAFT_DEBUG === '1') throw err;
  process.stderr.write(`regraft: ${why}\n`);
  process.exit(1);
}
process.exitCode = await main(process.argv.slice(2));
