/**
 * A throwaway PostgreSQL cluster for tests and benchmarks: initdb into a temporary folder, a server on 127.0.0.1 on
 * a free port, password authentication for TCP (so a wrong password is refused as it would be in production), and
 * everything removed on stop. initdb refuses to run as root, so as root the server runs as the `postgres` OS user.
 *
 * The binaries come from the PATH or Debian's /usr/lib/postgresql/<version>/bin; without them `findPostgres` says
 * what is missing (tests skip with that reason, or fail under CI=true).
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export interface ThrowawayPostgres {
  /** postgresql://regraft:PASSWORD@127.0.0.1:PORT/postgres */
  url: string;
  port: number;
  user: string;
  password: string;
  /** The same server under another database name, user or password (for the error-path tests). */
  urlWith(changes: { user?: string; password?: string; database?: string }): string;
  /** Stops the server (fast shutdown), keeping its data, so that `start` brings the same cluster back. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and removes the cluster. */
  destroy(): Promise<void>;
}

function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<{ code: number; out: string }> {
  return new Promise((done) => {
    execFile(cmd, args, { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      done({ code, out: `${stdout}${stderr}`.trim() });
    });
  });
}

/** The folder holding initdb and pg_ctl, or a sentence saying they are missing. */
export function findPostgres(): { bin: string } | { missing: string } {
  const candidates = (process.env.PATH ?? '').split(':').filter(Boolean);
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    for (const version of readdirSync(debian).sort().reverse()) candidates.push(join(debian, version, 'bin'));
  }
  const bin = candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
  return bin ? { bin } : { missing: 'PostgreSQL (initdb, pg_ctl) is not installed; apt-get install postgresql' };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const found = findPostgres();
  if ('missing' in found) throw new Error(found.missing);
  const asRoot = userInfo().uid === 0;
  const dir = mkdtempSync(join(tmpdir(), 'regraft-pg-'));
  const data = join(dir, 'data');
  const password = `pw-${Math.random().toString(36).slice(2, 10)}`;
  const user = 'regraft';
  writeFileSync(join(dir, 'pwfile'), `${password}\n`);
  if (asRoot) {
    const ids = await run('id', ['-u', 'postgres']);
    const gid = await run('id', ['-g', 'postgres']);
    if (ids.code !== 0) throw new Error('running as root needs the postgres OS user to run the server (initdb refuses root)');
    for (const path of [dir, join(dir, 'pwfile')]) chownSync(path, Number(ids.out), Number(gid.out));
  }
  const pg = (tool: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(found.bin, tool), ...args]) : run(join(found.bin, tool), args);

  const init = await pg('initdb', ['-D', data, '-U', user, '--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${join(dir, 'pwfile')}`, '-E', 'UTF8', '--no-sync']);
  if (init.code !== 0) throw new Error(`initdb failed: ${init.out.split('\n').slice(-3).join(' ')}`);
  let port = await freePort();

  const start = async () => {
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=60`;
    const started = await pg('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
    if (started.code !== 0) throw new Error(`pg_ctl start failed: ${started.out}`);
  };
  try {
    await start();
  } catch {
    // The port was taken between choosing and binding it: one more try on another.
    port = await freePort();
    await start();
  }
  const urlWith = (changes: { user?: string; password?: string; database?: string }) =>
    `postgresql://${encodeURIComponent(changes.user ?? user)}:${encodeURIComponent(changes.password ?? password)}@127.0.0.1:${port}/${changes.database ?? 'postgres'}`;
  const stop = async () => {
    await pg('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  };
  return {
    url: urlWith({}),
    port,
    user,
    password,
    urlWith,
    stop,
    start,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
