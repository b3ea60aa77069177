/**
 * The PostgreSQL backend (the `pg` package): a small connection pool; each transaction runs on one connection of it.
 * Timestamps are naive UTC, as Optuna keeps them: written with the server's clock in UTC and read back as text, so
 * no host's time zone ever enters (pg would otherwise read `timestamp without time zone` as local time).
 */
import pg from 'pg';
import { RegraftError, describeError } from '../../errors.js';
import type { SqlDriver, SqlTx, SqlValue } from './sql-driver.js';

const TIMESTAMP_OID = 1114;

/** `postgresql://user:secret@host:5432/db` without the password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}

/** `?` placeholders as PostgreSQL's `$1, $2, ...` (the store's SQL never has a `?` inside a literal). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

export class PostgresDriver implements SqlDriver {
  readonly dialect = 'postgres' as const;
  readonly where: string;
  readonly nowSql = `(now() AT TIME ZONE 'UTC')`;
  readonly claimRowsSql = 'FOR UPDATE SKIP LOCKED';
  claimRowsOfSql(alias: string): string {
    return `FOR UPDATE OF ${alias} SKIP LOCKED`;
  }
  readonly secondsAgoSql = `((now() AT TIME ZONE 'UTC') - make_interval(secs => ?::double precision))`;

  private constructor(private readonly pool: pg.Pool, readonly url: string, address: string) {
    this.where = `PostgreSQL at ${address}`;
  }

  /** Connects once up front, so that a wrong URL, password or database fails here in one line. */
  static async open(url: string): Promise<PostgresDriver> {
    const connectionString = url.replace(/^postgres(ql)?(\+[a-z0-9_]+)?:\/\//i, 'postgresql://');
    let address = redactUrl(url);
    try {
      const u = new URL(connectionString);
      address = `${u.hostname}:${u.port || 5432}${u.pathname}`;
    } catch {
      throw new RegraftError(`storage URL ${redactUrl(url)} is not a URL; write postgresql://USER:PASSWORD@HOST:PORT/DATABASE`);
    }
    const pool = new pg.Pool({
      connectionString,
      max: 4,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      types: { getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === TIMESTAMP_OID ? (v: string) => v : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser },
    });
    // An idle connection that the server closes (a restart) emits 'error' on the pool; the next query reconnects.
    pool.on('error', () => {});
    const driver = new PostgresDriver(pool, url, address);
    try {
      const client = await pool.connect();
      client.release();
    } catch (err) {
      await pool.end().catch(() => {});
      throw new RegraftError(describeConnectError(err, address, url));
    }
    return driver;
  }

  lockStudySql(): string {
    return 'SELECT study_id FROM studies WHERE study_id = ? FOR UPDATE';
  }

  async transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A connection the server drops mid-transaction emits 'error' on the client as well as failing the query;
    // the failed query is what the caller handles, the event must not crash the process.
    const ignore = () => {};
    client.on('error', ignore);
    const tx: SqlTx = {
      all: async <R>(sql: string, params: readonly SqlValue[] = []) => (await client.query(numbered(sql), params as SqlValue[])).rows as R[],
      get: async <R>(sql: string, params: readonly SqlValue[] = []) => (await client.query(numbered(sql), params as SqlValue[])).rows[0] as R | undefined,
      run: async (sql, params = []) => (await client.query(numbered(sql), params as SqlValue[])).rowCount ?? 0,
    };
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const value = await fn(tx);
      await client.query('COMMIT');
      return value;
    } catch (err) {
      broken = err instanceof Error ? err : new Error(String(err));
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      // A connection that failed is dropped rather than reused: after a server restart it is dead.
      client.off('error', ignore);
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => {});
  }
}

/** What went wrong when connecting, and what to do, in one line. */
function describeConnectError(err: unknown, address: string, url: string): string {
  const code = (err as { code?: string }).code;
  const user = (() => {
    try {
      return decodeURIComponent(new URL(url.replace(/^[^:]+:/, 'postgresql:')).username) || 'the default user';
    } catch {
      return 'the user';
    }
  })();
  switch (code) {
    case 'ECONNREFUSED':
      return `cannot reach PostgreSQL at ${address}: connection refused; check that the server runs and the host and port in --storage`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot reach PostgreSQL at ${address}: unknown host; check the host in --storage`;
    case 'ETIMEDOUT':
      return `cannot reach PostgreSQL at ${address}: timed out; check the host, port and firewall`;
    case '28P01':
      return `PostgreSQL at ${address} refused the password for user '${user}'; check the password in --storage`;
    case '28000':
      return `PostgreSQL at ${address} refused user '${user}' (${describeError(err)}); check the user in --storage and pg_hba.conf`;
    case '3D000':
      return `PostgreSQL at ${address}: ${describeError(err)}; create it (createdb) or fix the database name in --storage`;
    default:
      if (/timeout/i.test(describeError(err))) return `cannot reach PostgreSQL at ${address}: timed out; check the host, port and firewall`;
      return `cannot connect to PostgreSQL at ${address}: ${describeError(err)}`;
  }
}
