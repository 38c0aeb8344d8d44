/**
 * Prepared-statement cache for better-sqlite3. Why: on Node >= 24.19, a better-sqlite3 Statement that is garbage
 * collected during some GC passes aborts the process (Node's ObjectWrap destructor asserts a current
 * Environment: "RemoveEnvironmentCleanupHook ... (env) != nullptr"; better-sqlite3 #1515, closed unfixed).
 * drizzle prepares a new Statement for every query, so under load one is eventually collected at the wrong
 * moment. Rules: every Statement is prepared once per SQL text and kept for the life of the process (also
 * after close), so none is ever collected; each prepare() returns a small JS wrapper that sets the result mode
 * (raw/pluck) it needs on the shared native statement before each call; pragma() goes through the cache too.
 * The set of SQL texts is bounded by the code's queries (parameters are bound, never inlined).
 */
import type Database from 'better-sqlite3';

type Native = Database.Statement;

/** Keeps every native Statement reachable until the process exits (see above). */
const keepAlive: Map<string, Native>[] = [];

class CachedStatement {
  private rawMode = false;
  private pluckMode = false;
  constructor(private readonly native: Native) {}
  get reader() {
    return this.native.reader;
  }
  get source() {
    return this.native.source;
  }
  get readonly() {
    return this.native.readonly;
  }
  raw(on = true) {
    this.rawMode = on;
    if (on) this.pluckMode = false;
    return this;
  }
  pluck(on = true) {
    this.pluckMode = on;
    if (on) this.rawMode = false;
    return this;
  }
  private mode() {
    if (!this.native.reader) return this.native;
    // In better-sqlite3, raw(true) clears pluck and pluck(true) clears raw, but raw(false) leaves pluck on:
    // object mode must switch both off.
    if (this.pluckMode) return this.native.pluck(true);
    if (this.rawMode) return this.native.raw(true);
    return this.native.raw(false).pluck(false);
  }
  all(...params: unknown[]) {
    return this.mode().all(...params);
  }
  get(...params: unknown[]) {
    return this.mode().get(...params);
  }
  iterate(...params: unknown[]) {
    return this.mode().iterate(...params);
  }
  run(...params: unknown[]) {
    return this.native.run(...params);
  }
  columns() {
    return this.native.columns();
  }
}

export function installStatementCache(client: Database.Database): void {
  const cache = new Map<string, Native>();
  keepAlive.push(cache);
  const prepare = client.prepare.bind(client);
  const cached = (sql: string) => {
    let native = cache.get(sql);
    if (!native) {
      native = prepare(sql);
      cache.set(sql, native);
    }
    return new CachedStatement(native);
  };
  (client as unknown as { prepare: typeof cached }).prepare = cached;
  (client as unknown as { pragma: (src: string, opts?: { simple?: boolean }) => unknown }).pragma = (src, opts) => {
    const stmt = cached(`PRAGMA ${src}`);
    if (!stmt.reader) return stmt.run();
    return opts?.simple ? stmt.pluck().get() : stmt.all();
  };
}

export const statementCacheSize = () => keepAlive.reduce((n, m) => n + m.size, 0);
