/**
 * The SQLite backend (better-sqlite3): one file, any number of processes. WAL journal so readers never block the
 * writer; every write transaction starts with BEGIN IMMEDIATE, so two workers' claims queue on the file lock (for up to
 * a minute) instead of failing with "database is locked" halfway through.
 *
 * better-sqlite3 is synchronous, but the store's transactions are async functions: statements from two of this
 * process's transactions must not interleave on the one connection, so transactions take turns through a queue.
 */
import Database from 'better-sqlite3';
import { RegraftError, describeError } from '../../errors.js';
import type { SqlDriver, SqlTx, SqlValue } from './sql-driver.js';

const BUSY_TIMEOUT_MS = 60_000;

export class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const;
  readonly where: string;
  readonly nowSql = `(strftime('%Y-%m-%d %H:%M:%f', 'now') || '000')`;
  readonly claimRowsSql = '';
  claimRowsOfSql(): string {
    return '';
  }
  readonly secondsAgoSql = `(strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || ? || ' seconds') || '000')`;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(readonly db: Database.Database, readonly path: string) {
    this.where = `study file ${path}`;
  }

  /** Opens (creating unless readonly) the file; sets WAL and the busy timeout for writers. */
  static open(path: string, opts: { readonly?: boolean } = {}): SqliteDriver {
    try {
      const db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false, timeout: BUSY_TIMEOUT_MS });
      if (!opts.readonly) {
        db.pragma('journal_mode = WAL');
        // Under WAL, NORMAL keeps every committed transaction through a process kill (only power loss can drop one).
        db.pragma('synchronous = NORMAL');
        db.pragma('foreign_keys = ON');
      }
      return new SqliteDriver(db, path);
    } catch (err) {
      throw new RegraftError(`cannot open study file ${path}: ${describeError(err)}`);
    }
  }

  lockStudySql(): null {
    return null;
  }

  /** The same statements without a transaction or a promise: for reading a study file synchronously. */
  readonly sync = {
    all: <T>(sql: string, params: readonly SqlValue[] = []): T[] => this.db.prepare(sql).all(...params) as T[],
    get: <T>(sql: string, params: readonly SqlValue[] = []): T | undefined => this.db.prepare(sql).get(...params) as T | undefined,
  };

  transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T> {
    const tx: SqlTx = {
      all: async <R>(sql: string, params: readonly SqlValue[] = []) => this.db.prepare(sql).all(...params) as R[],
      get: async <R>(sql: string, params: readonly SqlValue[] = []) => this.db.prepare(sql).get(...params) as R | undefined,
      run: async (sql, params = []) => this.db.prepare(sql).run(...params).changes,
    };
    const result = this.queue.then(async () => {
      this.db.exec(this.db.readonly ? 'BEGIN' : 'BEGIN IMMEDIATE');
      try {
        const value = await fn(tx);
        this.db.exec('COMMIT');
        return value;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    await this.queue;
    if (this.db.open) this.db.close();
  }
}
