/**
 * Idle outbound SMTP connections kept for reuse, by key (e.g. `${ip}:${port}:${tlsMode}`), as Postfix's scache
 * does: the next message to the same destination skips the connect, greeting, EHLO and STARTTLS.
 * Rules:
 *  - take(key) is synchronous and returns the most recently put usable connection for key (or null); it does NOT
 *    send RSET. The caller calls `await conn.reset()` before its next transaction, and, when that fails (the server
 *    closed the idle connection, or answered with a 421), closes it and opens a fresh connection: a stale cached
 *    connection is not a delivery failure.
 *  - put(key, conn) keeps a usable connection idle (an unusable one is closed). A connection idle for idleMs or more
 *    is QUIT (never handed out again); so is the oldest one of a key when the key has more than maxIdlePerKey.
 *  - One timer (unref'd: it does not keep the process alive) fires when the earliest idle connection expires.
 *    `now` (default Date.now) is the clock both expiry and take() use.
 *  - closeAll() QUITs every idle connection and resolves when they are all closed; the cache can be used again.
 */
import type { SmtpConnection } from './smtpClient.ts';

export interface ConnectionCacheOptions {
  /** how long a connection may stay idle before it is QUIT */
  idleMs: number;
  /** at most this many idle connections per key (default 8); the oldest are QUIT */
  maxIdlePerKey?: number;
  now?: () => number;
}

export interface ConnectionCache {
  /** A usable idle connection for key, removed from the cache (call reset() before using it), or null. */
  take(key: string): SmtpConnection | null;
  /** Keeps `conn` idle under key (closes it if it is not usable). */
  put(key: string, conn: SmtpConnection): void;
  /** QUITs every idle connection. */
  closeAll(): Promise<void>;
  /** Idle connections held. */
  readonly size: number;
}

interface Idle {
  conn: SmtpConnection;
  since: number;
}

export function createConnectionCache(opts: ConnectionCacheOptions): ConnectionCache {
  const { idleMs } = opts;
  const maxIdle = opts.maxIdlePerKey ?? 8;
  const now = opts.now ?? Date.now;
  /** Per key, oldest first. */
  const idle = new Map<string, Idle[]>();
  let count = 0;
  let timer: NodeJS.Timeout | null = null;
  const quitting = new Set<Promise<void>>();

  const retire = (conn: SmtpConnection) => {
    const p = conn.quit().catch(() => {});
    quitting.add(p);
    p.finally(() => quitting.delete(p));
  };

  const sweep = () => {
    timer = null;
    const t = now();
    let earliest = Number.POSITIVE_INFINITY;
    for (const [key, list] of idle) {
      const keep: Idle[] = [];
      for (const e of list) {
        if (t - e.since >= idleMs || !e.conn.usable) {
          count--;
          retire(e.conn);
        } else {
          keep.push(e);
          earliest = Math.min(earliest, e.since);
        }
      }
      if (keep.length) idle.set(key, keep);
      else idle.delete(key);
    }
    if (earliest !== Number.POSITIVE_INFINITY) arm(earliest + idleMs - t);
  };

  const arm = (inMs: number) => {
    if (timer) return;
    timer = setTimeout(sweep, Math.max(0, inMs));
    timer.unref();
  };

  return {
    take(key) {
      const list = idle.get(key);
      if (!list) return null;
      const t = now();
      let found: SmtpConnection | null = null;
      while (list.length && !found) {
        const e = list.pop()!;
        count--;
        if (e.conn.usable && t - e.since < idleMs) found = e.conn;
        else retire(e.conn);
      }
      if (!list.length) idle.delete(key);
      return found;
    },
    put(key, conn) {
      if (!conn.usable) {
        conn.close();
        return;
      }
      let list = idle.get(key);
      if (!list) {
        list = [];
        idle.set(key, list);
      }
      list.push({ conn, since: now() });
      count++;
      while (list.length > maxIdle) {
        count--;
        retire(list.shift()!.conn);
      }
      arm(idleMs);
    },
    async closeAll() {
      if (timer) clearTimeout(timer);
      timer = null;
      for (const list of idle.values()) for (const e of list) retire(e.conn);
      idle.clear();
      count = 0;
      await Promise.all([...quitting]);
    },
    get size() {
      return count;
    },
  };
}
