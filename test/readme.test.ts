import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

// The README's command examples must run as written. Each `npx regraft ...` line of the "Commands" section (and of
// "Fine-tuning") is run
// in order (later lines use what earlier ones wrote), with `runs/` and `/tmp/` moved into a scratch folder. The
// `tune` lines are left to the tuning tests (a 16-trial study takes minutes).
const ROOT = join(import.meta.dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'regraft-readme-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function commandLines(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const between = (start: string, end: string) => readme.slice(readme.indexOf(start), readme.indexOf(end, readme.indexOf(start)));
  // The "Commands" block, then the fine-tuning example.
  const section = between('## Commands', '### `dropout`') + between('### Fine-tuning\n', '### Fine-tuning knobs');
  return section
    .split('\n')
    .filter((l) => l.startsWith('npx regraft ') && !l.startsWith('npx regraft tune'))
    .map((l) => l.replace(/\s+#.*$/, '').trim());
}

function argv(line: string): string[] {
  return line
    .replace(/^npx regraft /, '')
    .split(/\s+/)
    .map((a) => a.replace(/^'(.*)'$/, '$1').replace(/^runs\//, `${scratch}/runs/`).replace(/^\/tmp\//, `${scratch}/`));
}

describe('README commands', () => {
  const lines = commandLines();

  it('lists the commands it documents', () => {
    expect(lines.length).toBeGreaterThanOrEqual(12);
  });

  it.each(lines.map((l, i) => [i + 1, l]))('%i: %s', (_i, line) => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'regraft.js'), ...argv(line as string)], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, `${line}\n${r.stderr}`).toBe(0);
  });
});

describe('README examples', () => {
  it('the tuning study shown is examples/tune-mnist.yaml', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf('# examples/tune-mnist.yaml\n');
    expect(start).toBeGreaterThan(0);
    const shown = readme.slice(start, readme.indexOf('```', start));
    expect(parseYaml(shown)).toEqual(parseYaml(readFileSync(join(ROOT, 'examples', 'tune-mnist.yaml'), 'utf8')));
  });
});
