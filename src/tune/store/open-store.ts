/**
 * Where a study lives, from the CLI's `--study FILE.db` or `--storage URL` (Optuna's URL forms:
 * `sqlite:///relative.db`, `sqlite:////absolute.db`, `postgresql://user:password@host:port/db`, and
 * `postgresql+psycopg2://...` so the very URL a Python script uses works here too), and opening it for work.
 */
import { existsSync } from 'node:fs';
import { RegraftError } from '../../errors.js';
import { isLegacyStudy } from './legacy-v1.js';
import { PostgresDriver, redactUrl } from './postgres-driver.js';
import { OPTUNA_SCHEMA_REVISION, revisionMismatch, schemaStatements } from './schema.js';
import type { SqlDriver, SqlTx } from './sql-driver.js';
import { SqliteDriver } from './sqlite-driver.js';

export type StorageTarget = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

export function storageTarget(opts: { study?: string; storage?: string }): StorageTarget {
  if (opts.study !== undefined && opts.storage !== undefined) {
    throw new RegraftError(`give either --study FILE.db or --storage URL, not both`, 2);
  }
  if (opts.study !== undefined) return { kind: 'sqlite', path: opts.study };
  if (opts.storage === undefined) throw new RegraftError(`no study given: pass --study FILE.db or --storage URL`, 2);
  const url = opts.storage;
  if (/^sqlite:\/\/\//i.test(url)) return { kind: 'sqlite', path: url.slice('sqlite:///'.length) };
  if (/^postgres(ql)?(\+[a-z0-9_]+)?:\/\//i.test(url)) return { kind: 'postgres', url };
  throw new RegraftError(`unsupported storage URL ${redactUrl(url)}; use postgresql://USER:PASSWORD@HOST:PORT/DB or sqlite:///FILE.db`, 2);
}

export function describeTarget(target: StorageTarget): string {
  return target.kind === 'sqlite' ? `study file ${target.path}` : redactUrl(target.url);
}

export function migrateHint(path: string): string {
  return `${path} holds a study in regraft's first format; convert it once with 'regraft tune migrate ${path}' (the old file is kept as ${path}.v1)`;
}

/** Whether the database holds Optuna's tables, none at all, or something else; throws for another revision. */
async function schemaState(tx: SqlTx, driver: SqlDriver): Promise<'optuna' | 'empty'> {
  const tables = driver.dialect === 'postgres'
    ? await tx.all<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()`)
    : await tx.all<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table'`);
  const names = new Set(tables.map((t) => t.name));
  if (!names.has('alembic_version') && !names.has('studies')) return 'empty';
  if (!names.has('alembic_version') || !names.has('studies')) {
    throw new RegraftError(`${driver.where} has tables but is not an Optuna storage (no ${names.has('studies') ? 'alembic_version' : 'studies'} table); use an empty database`);
  }
  const row = await tx.get<{ version_num: string }>(`SELECT version_num FROM alembic_version`);
  const found = row?.version_num ?? '(none)';
  if (found !== OPTUNA_SCHEMA_REVISION) throw new RegraftError(revisionMismatch(driver.where, found));
  return 'optuna';
}

/** Creates Optuna's schema in an empty database (once, whoever gets there first), or checks its revision. */
export async function ensureOptunaSchema(driver: SqlDriver): Promise<void> {
  await driver.transaction(async (tx) => {
    // Two workers starting on an empty PostgreSQL database: the advisory lock lets one create, the other then sees it.
    if (driver.dialect === 'postgres') await tx.run(`SELECT pg_advisory_xact_lock(7316802433)`);
    if ((await schemaState(tx, driver)) === 'empty') {
      for (const statement of schemaStatements(driver.dialect)) await tx.run(statement);
    }
  });
}

/** Opens a storage for reading and writing, creating Optuna's schema in a new file or an empty database. */
export async function openWritableDriver(target: StorageTarget): Promise<SqlDriver> {
  const driver = target.kind === 'sqlite' ? SqliteDriver.open(target.path) : await PostgresDriver.open(target.url);
  try {
    if (driver instanceof SqliteDriver && isLegacyStudy(driver.db)) throw new RegraftError(migrateHint(target.kind === 'sqlite' ? target.path : ''));
    await ensureOptunaSchema(driver);
    return driver;
  } catch (err) {
    await driver.close();
    throw err;
  }
}

/** Opens an existing storage to read; a missing SQLite file is an error rather than a new empty store. */
export async function openReadableDriver(target: StorageTarget): Promise<SqlDriver> {
  if (target.kind === 'sqlite') {
    if (!existsSync(target.path)) throw new RegraftError(`${target.path}: no such study file; check the path`);
    return SqliteDriver.open(target.path, { readonly: true });
  }
  return openWritableDriver(target);
}

/**
 * The study to use: the one named, else the only one in the storage. `fallback` (the config's name) is used
 * when the storage holds none, or when it holds several and one has that name.
 */
export function chooseStudyName(names: readonly string[], opts: { requested?: string; fallback?: string; where: string }): string | null {
  if (opts.requested !== undefined) return opts.requested;
  if (names.length === 1) return names[0];
  if (names.length === 0) return opts.fallback ?? null;
  if (opts.fallback !== undefined && names.includes(opts.fallback)) return opts.fallback;
  throw new RegraftError(`${opts.where} holds ${names.length} studies (${names.map((n) => `'${n}'`).join(', ')}); choose one with --study-name`);
}

/** Names of the studies in a storage. */
export async function listStudies(driver: SqlDriver): Promise<string[]> {
  return driver.transaction(async (tx) =>
    (await tx.all<{ study_name: string }>(`SELECT study_name FROM studies ORDER BY study_id`)).map((r) => r.study_name));
}
