/** Finds regraft's own package folder, so that forked workers run the built JS whether we run from src or dist. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RegraftError } from '../errors.js';

export function packageRoot(fromUrl: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(fromUrl));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new RegraftError(`cannot find package.json above ${fileURLToPath(fromUrl)}; is regraft installed?`);
    dir = parent;
  }
}

/** The compiled worker script; it must be JS because Node forks it directly. */
export function workerScriptPath(): string {
  const path = join(packageRoot(), 'dist', 'tune', 'worker.js');
  if (!existsSync(path)) {
    throw new RegraftError(`tuning worker ${path} is missing; build regraft first (npm run build)`);
  }
  return path;
}

/** The compiled trial module that runs `train()` for a trial (what `regraft tune` hands its workers). */
export function trainTrialModulePath(): string {
  const path = join(packageRoot(), 'dist', 'tune', 'train-trial.js');
  if (!existsSync(path)) throw new RegraftError(`trial module ${path} is missing; build regraft first (npm run build)`);
  return path;
}
