import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHROMIUM_NAMES, newcomerEnv, pathWithoutChromium, README_COMMANDS, warningLines } from '../scripts/fresh-clone-check.mjs';

// scripts/fresh-clone-check.mjs is the "done when": .ci/run runs it in CI's fresh clone (so the suite runs
// once); these tests pin down the parts that decide whether it passes.
const ROOT = join(import.meta.dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'regraft-fresh-clone-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function executable(dir: string, name: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), '#!/bin/sh\necho hello\n');
  chmodSync(join(dir, name), 0o755);
}

describe('the fresh-clone check', () => {
  it('catches npm warnings of every kind npm prints, and Node process warnings', () => {
    const output = [
      'added 107 packages in 2m',
      'npm warn install-scripts 2 packages have install scripts not yet covered by allowScripts:',
      'npm warn Unknown project config "onnxruntime-node-install". This will stop working in the next major version of npm.',
      'npm WARN deprecated tar@6.2.1: Old versions of tar are not supported',
      '(node:4242) ExperimentalWarning: SQLite is an experimental feature',
      '(node:4242) [DEP0040] DeprecationWarning: The `punycode` module is deprecated.',
      ' ✓ test/tune/chromium.test.ts (4 tests)',
      'a test named "npm warn" is not a warning',
    ].join('\n');
    expect(warningLines(output)).toEqual([
      'npm warn install-scripts 2 packages have install scripts not yet covered by allowScripts:',
      'npm warn Unknown project config "onnxruntime-node-install". This will stop working in the next major version of npm.',
      'npm WARN deprecated tar@6.2.1: Old versions of tar are not supported',
      '(node:4242) ExperimentalWarning: SQLite is an experimental feature',
      '(node:4242) [DEP0040] DeprecationWarning: The `punycode` module is deprecated.',
    ]);
  });

  it('hides Chromium from the PATH and keeps every other tool of its folder', () => {
    const bin = join(scratch, 'usr-bin');
    executable(bin, 'chromium');
    executable(bin, 'git-ish');
    executable(join(scratch, 'other'), 'tool');
    const path = pathWithoutChromium([bin, join(scratch, 'other')].join(delimiter), join(scratch, 'shadow'));
    const dirs = path.split(delimiter);
    expect(dirs).toHaveLength(2);
    expect(dirs[1]).toBe(join(scratch, 'other'));
    expect(existsSync(join(dirs[0], 'chromium'))).toBe(false);
    expect(spawnSync('/bin/sh', ['-c', `command -v ${CHROMIUM_NAMES.join(' ')}`], { env: { PATH: path }, encoding: 'utf8' }).stdout).toBe('');
    expect(spawnSync('git-ish', [], { env: { PATH: path }, encoding: 'utf8' }).stdout).toBe('hello\n');
  });

  it("gives the commands a newcomer's environment", () => {
    const env = newcomerEnv({ PATH: '/usr/bin', HOME: '/root', CHROMIUM: '/x/chromium', npm_config_local_prefix: '/repo', NPM_CONFIG_LOGLEVEL: 'warn', INIT_CWD: '/repo' }, join(scratch, 'env'));
    expect(env).toEqual({ PATH: expect.any(String), HOME: '/root' });
  });

  it("runs the README's install, quick start and test commands", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const command of README_COMMANDS) expect(readme).toContain(command.join(' '));
    expect(README_COMMANDS[0]).toEqual(['npm', 'ci']);
    expect(README_COMMANDS.at(-1)).toEqual(['npm', 'test']);
  });

  it('is what CI runs', () => {
    expect(readFileSync(join(ROOT, '.ci', 'run'), 'utf8')).toMatch(/^node scripts\/fresh-clone-check\.mjs --here$/m);
  });
});
