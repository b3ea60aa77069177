/** What the distributed-study tests share: a throwaway PostgreSQL, worker processes, marker files. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPostgres, startThrowawayPostgres, type ThrowawayPostgres } from '../postgres.js';

export const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** A PostgreSQL for the tests, or why there is none (under CI=true its absence is an error, not a skip). */
export async function postgresForTests(): Promise<{ pg: ThrowawayPostgres; missing?: undefined } | { pg?: undefined; missing: string }> {
  const found = findPostgres();
  if ('missing' in found) {
    if (process.env.CI === 'true') throw new Error(`CI=true and ${found.missing}`);
    return { missing: found.missing };
  }
  return { pg: await startThrowawayPostgres() };
}

export interface WorkerRun {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>;
}

export function spawnWorker(spec: Record<string, unknown>, opts: { detached?: boolean } = {}): WorkerRun {
  const child = spawn(process.execPath, [join(fixtures, 'run-worker.mjs'), JSON.stringify(spec)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.detached ?? false,
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, out })));
  return { child, output: () => out, exited };
}

export interface Marker {
  trialId: number;
  pid: number;
  parent: number;
  params: Record<string, unknown>;
}

export function markers(dir: string, kind: 'start' | 'done'): Marker[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${kind}-`))
    .map((f) => {
      const [, id, pid] = f.split('-');
      const body = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { params: Record<string, unknown>; parent: number };
      return { trialId: Number(id), pid: Number(pid), parent: body.parent, params: body.params };
    });
}

export async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** How many times each key occurs. */
export function tally<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}
