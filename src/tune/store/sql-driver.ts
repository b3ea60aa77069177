/**
 * What the study store needs from a database: transactions of parameterized statements. SQL is written once, with
 * `?` placeholders, in the subset both SQLite and PostgreSQL understand (RETURNING, ON CONFLICT ... DO UPDATE); the
 * few dialect-specific fragments come from the driver (`now`, row locks).
 */
import type { Dialect } from './schema.js';

export type SqlValue = string | number | null;

export interface SqlTx {
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** Runs a statement; returns how many rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

export interface SqlDriver {
  readonly dialect: Dialect;
  /** Where the database is, for messages: "study file runs/tune.db", "PostgreSQL at db:5432/optuna". */
  readonly where: string;
  /** The database's clock as a naive UTC timestamp expression: one clock for every worker, whatever their host's. */
  readonly nowSql: string;
  /** Appended to a SELECT that claims rows: `FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite locks the file instead. */
  readonly claimRowsSql: string;
  /** The same for a SELECT with joins: lock only the rows of the table aliased `alias`. */
  claimRowsOfSql(alias: string): string;
  /** A naive UTC timestamp `?` seconds before now (one placeholder), on the database's clock. */
  readonly secondsAgoSql: string;
  /**
   * Runs `fn` in one transaction that takes the write lock up front (BEGIN IMMEDIATE on SQLite; on PostgreSQL rows
   * are locked by the statements themselves). Commits when `fn` resolves, rolls back when it throws.
   */
  transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T>;
  /** SQL that locks the study row until the transaction ends (a no-op statement on SQLite, already locked). */
  lockStudySql(): string | null;
  close(): Promise<void>;
}

/** Errors that mean the database went away (restart, network), as opposed to errors in what was asked. */
export function isConnectionLost(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'].includes(code)) return true;
    // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now; class 08: connection exceptions.
    if (['57P01', '57P02', '57P03'].includes(code) || code.startsWith('08')) return true;
  }
  const message = err instanceof Error ? err.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|Client was closed|the database system is (starting up|shutting down)/i.test(message);
}
