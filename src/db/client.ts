/**
 * The SQLite connection. Rules: this folder is the only place with SQLite-specific pragmas and SQL; the
 * repositories use Drizzle's query builder only, so they can move to PostgreSQL later (the store's commit
 * thread executes SQL text that Drizzle built, repos/deliveryTransaction.mjs, on a second connection opened with
 * connectionPragmas()). One connection per process for everything else (better-sqlite3 is synchronous; WAL lets
 * readers proceed during a write).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate as drizzleMigrate } from 'drizzle-orm/better-sqlite3/migrator';
import { relations } from '../../schema/db/relations.ts';
import type { Config } from '../config/load.ts';
import { installStatementCache } from './statementCache.ts';

export const MIGRATIONS_FOLDER = resolve(dirname(fileURLToPath(import.meta.url)), '../../drizzle');

export interface DbOptions {
  path: string;
  walEnabled: boolean;
  busyTimeoutMs: number;
}

/** The database options of a loaded config. */
export const dbOptions = (config: Pick<Config, 'database'>): DbOptions => ({
  path: config.database.path,
  walEnabled: config.database.wal_enabled,
  busyTimeoutMs: config.database.busy_timeout * 1000,
});

/** The pragmas every connection to the database gets, in order (also the commit thread's). */
export function connectionPragmas(opts: DbOptions): string[] {
  return [
    `journal_mode = ${opts.walEnabled ? 'WAL' : 'DELETE'}`,
    // FULL in both modes: a committed transaction (and so an accepted message) survives power loss, not only a
    // process crash.
    'synchronous = FULL',
    'foreign_keys = ON',
    `busy_timeout = ${opts.busyTimeoutMs}`,
  ];
}

export function openDatabase(opts: DbOptions) {
  if (opts.path !== ':memory:') mkdirSync(dirname(opts.path), { recursive: true, mode: 0o700 });
  const client = new Database(opts.path, { timeout: opts.busyTimeoutMs });
  installStatementCache(client);
  for (const p of connectionPragmas(opts)) client.pragma(p);
  const db = drizzle({ client, relations });
  // Another connection writes too (the store's commit thread). A deferred transaction that reads, then writes after
  // the other connection committed, fails at once with SQLITE_BUSY (its snapshot is stale; the busy timeout does
  // not apply), so transactions take the write lock when they begin (waiting up to the busy timeout).
  const transaction = db.transaction.bind(db);
  db.transaction = ((fn, config) => transaction(fn, { behavior: 'immediate', ...config })) as typeof db.transaction;
  return db;
}

export type Db = ReturnType<typeof openDatabase>;
/** A transaction handle (what `db.transaction(fn)` passes to fn). */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** Applies pending migrations from drizzle/. Idempotent. Returns how many were applied. */
export function migrate(db: Db): number {
  const count = () => {
    try {
      return (db.$client.prepare('select count(*) as n from __drizzle_migrations').get() as { n: number }).n;
    } catch {
      return 0;
    }
  };
  const before = count();
  drizzleMigrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
  return count() - before;
}

/** A cheap liveness probe for /health: throws when the database cannot be read. */
export function probe(db: Db): { journalMode: string } {
  const mode = db.$client.pragma('journal_mode', { simple: true }) as string;
  db.$client.prepare('select 1 from domains limit 1').get();
  return { journalMode: mode };
}

export function closeDatabase(db: Db): void {
  if (db.$client.open) db.$client.close();
}

/**
 * Runs `fn` (a transaction) with `synchronous = NORMAL`: committed at once and kept through a process crash
 * (SIGKILL), but not fsync'd, so losing it to a power cut is possible. Only for writes whose loss merely repeats
 * work (an outbound delivery's outcome: the message is sent again). better-sqlite3 is synchronous, so no other
 * statement of this connection runs in between.
 */
export function withoutFsync<T>(db: Db, fn: () => T): T {
  const client = db.$client;
  client.pragma('synchronous = NORMAL');
  try {
    return fn();
  } finally {
    client.pragma('synchronous = FULL');
  }
}
