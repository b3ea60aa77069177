// The headless Chromium that `npm ci` brings: the devDependency @sparticuz/chromium ships a chrome-headless-shell
// build for linux/x64 inside its tarball (bin/chromium.br, brotli-compressed) together with the NSS libraries it
// links against (bin/al2023.tar.br) and a font (bin/fonts.tar.br). Nothing is downloaded: this module only unpacks
// those files, once per package version, into node_modules/.cache/regraft-chromium/<version>/.
//
// The package's own JavaScript unpacks into os.tmpdir()/chromium and trusts whatever it finds there (any version,
// half-written by a concurrent run); unpacking here is keyed by version and atomic (a folder renamed into place).
// The libraries and the font are used through LD_LIBRARY_PATH and FONTCONFIG_FILE, so the browser needs nothing from
// the machine beyond glibc, and renders text the same everywhere.
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, normalize, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { brotliDecompressSync, createBrotliDecompress } from 'node:zlib';

const PACKAGE = '@sparticuz/chromium';
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cacheRoot = join(repo, 'node_modules', '.cache', 'regraft-chromium');

/** The folder of the installed @sparticuz/chromium (its exports map hides package.json, so walk up from main). */
function packageFolder() {
  let main;
  try {
    main = createRequire(import.meta.url).resolve(PACKAGE);
  } catch {
    throw new Error(`${PACKAGE} is not installed (it is a devDependency of regraft): run \`npm ci\` in ${repo}`);
  }
  for (let dir = dirname(main); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === PACKAGE) return dir;
  }
  throw new Error(`cannot find the package folder of ${PACKAGE} above ${main}`);
}

/**
 * Regular files and folders of a tar archive (ustar or GNU headers), as [relative path, contents or null for a
 * folder]. The package's archives hold only those; any other entry type (links, pax or GNU long names) is refused
 * rather than guessed.
 */
export function untar(bytes) {
  const entries = [];
  for (let offset = 0; offset + 512 <= bytes.length; ) {
    const header = bytes.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break; // end-of-archive marker
    const field = (start, length) => header.toString('latin1', start, start + length).replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    // POSIX ustar splits long names into prefix + name; GNU tar's magic ('ustar  ') keeps other data there.
    const prefix = header.toString('latin1', 257, 263) === 'ustar\0' ? field(345, 155) : '';
    const name = (prefix ? `${prefix}/` : '') + field(0, 100);
    const path = normalize(name);
    if (path.startsWith('..') || path.startsWith(sep)) throw new Error(`tar entry ${name} points outside the archive`);
    if (type === '0') entries.push([path, bytes.subarray(offset + 512, offset + 512 + size)]);
    else if (type === '5') entries.push([path, null]);
    else throw new Error(`tar entry ${name} has type '${type}', which this reader does not handle`);
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return entries;
}

function extractTar(brotliFile, into, keep = () => true) {
  for (const [path, contents] of untar(brotliDecompressSync(readFileSync(brotliFile)))) {
    if (!keep(path)) continue;
    const target = join(into, path);
    if (contents === null) mkdirSync(target, { recursive: true });
    else {
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, contents);
    }
  }
}

function fontconfig(fontsDir, cacheDir) {
  return `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <dir>${fontsDir}</dir>\n  <cachedir>${cacheDir}</cachedir>\n</fontconfig>\n`;
}

async function unpack(pkg, dir) {
  const partial = `${dir}.partial-${process.pid}-${Date.now()}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  try {
    const binary = join(partial, 'chromium');
    await pipeline(createReadStream(join(pkg, 'bin', 'chromium.br')), createBrotliDecompress(), createWriteStream(binary, { mode: 0o755 }));
    extractTar(join(pkg, 'bin', 'al2023.tar.br'), partial); // lib/libnss3.so and the rest of NSS
    extractTar(join(pkg, 'bin', 'fonts.tar.br'), partial, (path) => path.startsWith('fonts')); // its fonts.conf names /tmp paths
    writeFileSync(join(partial, 'fonts.conf'), fontconfig(join(dir, 'fonts'), join(dir, 'fonts-cache')));
    try {
      renameSync(partial, dir);
    } catch (err) {
      // Another process unpacked the same version first; theirs is complete (renames are atomic), keep it.
      if (!existsSync(join(dir, 'chromium'))) throw err;
    }
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
}

/**
 * The bundled browser, unpacked on first use: `executablePath` and the environment it runs in (the process
 * environment plus the bundled libraries and fonts). The CHROMIUM environment variable overrides it with a browser
 * of your own (e.g. on macOS or arm64, where the bundled linux/x64 build cannot run).
 */
export async function bundledChromium() {
  if (process.env.CHROMIUM) {
    if (!existsSync(process.env.CHROMIUM)) throw new Error(`CHROMIUM is set to ${process.env.CHROMIUM}, which does not exist; unset it to use the bundled Chromium`);
    return { executablePath: process.env.CHROMIUM, env: { ...process.env } };
  }
  if (`${process.platform}/${process.arch}` !== 'linux/x64') {
    throw new Error(`the bundled Chromium (${PACKAGE}) runs on linux/x64 only, not ${process.platform}/${process.arch}; set CHROMIUM to a Chromium or Chrome binary`);
  }
  const pkg = packageFolder();
  const version = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).version;
  const dir = join(cacheRoot, version);
  if (!existsSync(join(dir, 'chromium'))) {
    mkdirSync(cacheRoot, { recursive: true });
    await unpack(pkg, dir);
  }
  const libs = join(dir, 'lib');
  return {
    executablePath: join(dir, 'chromium'),
    env: {
      ...process.env,
      LD_LIBRARY_PATH: [libs, ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter((p) => p && p !== libs)].join(':'),
      FONTCONFIG_FILE: join(dir, 'fonts.conf'),
    },
  };
}
