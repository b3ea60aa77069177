/**
 * A Python interpreter with the packages an interop test needs (Optuna, TensorBoard's event reader), in a virtualenv
 * that is made once and cached under node_modules/.cache/regraft-python/.
 *
 * pip's default index is unreachable from these machines and retries for minutes, so the indexes come from this
 * machine's pip configuration: the first of `global.extra-index-url` (or `global.index-url`) is passed as
 * `--index-url`, the rest as `--extra-index-url`.
 *
 * Under CI=true a Python that cannot be made is an error (the interop test must fail, not skip); elsewhere the caller
 * gets the reason and skips, saying why.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cacheRoot = join(repo, 'node_modules', '.cache', 'regraft-python');

export type PythonEnv = { python: string; missing?: undefined } | { python?: undefined; missing: string };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<Run> {
  return new Promise((done) => {
    execFile(cmd, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      done({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** `--index-url A --extra-index-url B ...` from pip's own configuration, or [] when none is set. */
async function indexArgs(): Promise<string[]> {
  const urls: string[] = [];
  for (const key of ['global.index-url', 'global.extra-index-url']) {
    const got = await run('python3', ['-m', 'pip', 'config', 'get', key], 30_000);
    if (got.code === 0) urls.push(...got.stdout.split(/\s+/).filter(Boolean));
  }
  if (urls.length === 0) return [];
  return ['--index-url', urls[0], ...urls.slice(1).flatMap((u) => ['--extra-index-url', u])];
}

async function makeVenv(dir: string, packages: readonly string[]): Promise<string | undefined> {
  const building = `${dir}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(dirname(building), { recursive: true });
  const venv = await run('python3', ['-m', 'venv', building], 120_000);
  if (venv.code !== 0) return `python3 -m venv failed: ${venv.stderr.trim().split('\n').pop()}`;
  const pip = await run(join(building, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', ...(await indexArgs()), ...packages], 600_000);
  if (pip.code !== 0) {
    rmSync(building, { recursive: true, force: true });
    return `pip install ${packages.join(' ')} failed: ${pip.stderr.trim().split('\n').pop()}`;
  }
  writeFileSync(join(building, '.ready'), packages.join('\n'));
  // Another test worker may have finished the same venv first: keep theirs.
  try {
    renameSync(building, dir);
  } catch {
    rmSync(building, { recursive: true, force: true });
  }
  return undefined;
}

const pending = new Map<string, Promise<PythonEnv>>();

/** A python with `packages` installed (pip requirement strings), made on first use. */
export function pythonWith(packages: readonly string[]): Promise<PythonEnv> {
  const key = createHash('sha256').update([...packages].sort().join('\n')).digest('hex').slice(0, 16);
  let env = pending.get(key);
  if (!env) {
    env = (async (): Promise<PythonEnv> => {
      const dir = join(cacheRoot, key);
      if (!existsSync(join(dir, '.ready'))) {
        const problem = await makeVenv(dir, packages);
        if (problem && !existsSync(join(dir, '.ready'))) {
          if (process.env.CI === 'true') throw new Error(`CI=true and the interop test's Python cannot be made: ${problem}`);
          return { missing: problem };
        }
      }
      return { python: join(dir, 'bin', 'python') };
    })();
    pending.set(key, env);
  }
  return env;
}

/** Runs a Python snippet with the given interpreter; its stdout is returned, a non-zero exit throws with stderr. */
export async function runPython(python: string, code: string, args: readonly string[] = [], timeoutMs = 120_000): Promise<string> {
  const got = await run(python, ['-c', code, ...args], timeoutMs);
  if (got.code !== 0) throw new Error(`python exited ${got.code}: ${got.stderr.trim()}`);
  return got.stdout;
}
