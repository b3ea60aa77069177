import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundledChromium, untar } from '../../scripts/bundled-chromium.mjs';

// The browser of the report tests comes from `npm ci` alone: these tests pin down that it needs nothing from the
// machine (its NSS libraries are the bundled ones) and that its archives are read exactly.
const here = dirname(fileURLToPath(import.meta.url));
const script = resolve(here, '..', '..', 'scripts', 'bundled-chromium.mjs');

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(cmd, args, { env, timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** One tar header block (GNU or POSIX magic) plus the padded contents. */
function tarEntry(name: string, contents: string, { type = '0', posixPrefix = '' } = {}): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 'latin1');
  header.write('0000644\0', 100, 'latin1');
  header.write(contents.length.toString(8).padStart(11, '0') + '\0', 124, 'latin1');
  header.write(type, 156, 'latin1');
  if (posixPrefix) {
    header.write('ustar\x0000', 257, 'latin1');
    header.write(posixPrefix, 345, 'latin1');
  } else header.write('ustar  \0', 257, 'latin1');
  const body = Buffer.alloc(Math.ceil(contents.length / 512) * 512);
  body.write(contents, 'latin1');
  return Buffer.concat([header, body]);
}

describe('the Chromium that npm ci brings', () => {
  it('runs on the bundled NSS libraries, not on the machine\'s', async () => {
    const { executablePath, env } = await bundledChromium();
    const ldd = await run('ldd', [executablePath], env);
    expect(ldd.code, ldd.stderr).toBe(0);
    expect(ldd.stdout).not.toContain('not found');
    const bundledLibs = join(dirname(executablePath), 'lib');
    for (const lib of ['libnss3.so', 'libnspr4.so', 'libnssutil3.so']) {
      expect(ldd.stdout).toMatch(new RegExp(`${lib.replace(/\./g, '\\.')} => ${bundledLibs.replace(/[.+]/g, '\\$&')}/${lib.replace(/\./g, '\\.')} `));
    }
    const version = await run(executablePath, ['--version'], env);
    expect(version.stdout).toMatch(/^Chromium \d+\.\d+\.\d+\.\d+/);
  });

  it('says in one line what to do when CHROMIUM names no file', async () => {
    const r = await run(process.execPath, ['--input-type=module', '-e', `import { bundledChromium } from ${JSON.stringify(script)}; await bundledChromium();`], {
      ...process.env,
      CHROMIUM: '/nonexistent/chromium',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('CHROMIUM is set to /nonexistent/chromium, which does not exist; unset it to use the bundled Chromium');
  });
});

describe('untar', () => {
  it('reads files and folders of GNU and POSIX headers, and stops at the end marker', () => {
    const archive = Buffer.concat([
      tarEntry('fonts/', '', { type: '5' }),
      tarEntry('fonts/a.ttf', 'x'.repeat(700)),
      tarEntry('b.conf', '<fontconfig/>', { posixPrefix: 'etc' }),
      Buffer.alloc(1024),
      tarEntry('after-the-end', 'ignored'),
    ]);
    const entries = untar(archive).map(([path, contents]) => [path, contents === null ? null : contents.toString('latin1')]);
    expect(entries).toEqual([
      ['fonts/', null],
      ['fonts/a.ttf', 'x'.repeat(700)],
      ['etc/b.conf', '<fontconfig/>'],
    ]);
  });

  it('refuses links and paths that leave the folder', () => {
    expect(() => untar(tarEntry('lib/libnss3.so', '', { type: '2' }))).toThrow("tar entry lib/libnss3.so has type '2', which this reader does not handle");
    expect(() => untar(tarEntry('../escape', 'x'))).toThrow('tar entry ../escape points outside the archive');
  });
});
