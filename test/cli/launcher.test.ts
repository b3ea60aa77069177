import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// bin/regraft.js, the `regraft` command: when the CLI itself cannot load, one line says what to do.
const ROOT = join(import.meta.dirname, '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'regraft-launcher-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A package folder holding the launcher and, optionally, a dist/cli/main.js. */
function packageWith(name: string, main?: string): string {
  const dir = join(scratch, name);
  mkdirSync(join(dir, 'bin'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'regraft', type: 'module' }));
  copyFileSync(join(ROOT, 'bin', 'regraft.js'), join(dir, 'bin', 'regraft.js'));
  if (main !== undefined) {
    mkdirSync(join(dir, 'dist', 'cli'), { recursive: true });
    writeFileSync(join(dir, 'dist', 'cli', 'main.js'), main);
  }
  return dir;
}

const launch = (dir: string) => spawnSync(process.execPath, [join(dir, 'bin', 'regraft.js'), '--version'], { encoding: 'utf8', timeout: 30_000 });

describe('the regraft launcher', () => {
  it('says to build when dist/ is missing', () => {
    const dir = packageWith('unbuilt');
    const r = launch(dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`regraft: the CLI is not built (${join(dir, 'dist', 'cli', 'main.js')} is missing): run \`npm run build\` in ${dir}\n`);
  });

  it('says to reinstall when a dependency of the CLI is gone', () => {
    const dir = packageWith('no-deps', "import 'commander';\nexport async function main() { return 0; }\n");
    const r = launch(dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`regraft: cannot load commander, which regraft needs (${dir}): run \`npm install\` to restore regraft's dependencies\n`);
  });

  it('runs the CLI when it loads', () => {
    const dir = packageWith('fine', "export async function main(argv) { console.log('main', argv.join(' ')); return 0; }\n");
    const r = launch(dir);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('main --version\n');
    expect(r.status).toBe(0);
  });
});
