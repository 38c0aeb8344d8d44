/**
 * Rate-limit counters: "count this event if the key is under its limit", behind a small interface so a shared
 * store (Redis, for several nodes) can replace the in-process one.
 *
 * Rules:
 * - take() is atomic per key: it either counts the event and allows it, or refuses it and counts nothing (refused
 *   attempts never lengthen a block). An event is counted only if the estimate including it stays within the limit.
 * - Interface results are `T | Promise<T>`: the in-process implementation answers synchronously; a Redis one
 *   returns Promises (a Lua script does the read-decide-increment in one round trip, keys expire by TTL, so its
 *   sweep() is a no-op). Callers always `await` (rateLimits.ts). Measured on Node 20 (1,000 keys, 10^6 calls):
 *   a take ~0.1 µs, awaiting its plain result adds ~0.07 µs, a whole rateLimits check ~0.6 µs: invisible next
 *   to one SMTP command.
 * - The clock is the caller's (`now`, ms): tests move it, nodes of a cluster share wall time.
 *
 * Method: the sliding-window counter. Time is cut into fixed windows of windowMs aligned on multiples of windowMs;
 * a key keeps only the count of its current window and of the previous one (memory O(keys), whatever the limit:
 * 1,000,000 events per window cost two numbers, not a million timestamps). At `now`, a fraction f of the sliding
 * window [now - windowMs, now] lies in the previous fixed window, and the estimate is
 *     estimate = previous * f + current
 * i.e. the previous window's events are assumed to be spread evenly across it.
 *
 * Error bound: the estimate differs from the true sliding count by at most previous * max(f, 1 - f) < limit, and
 * it is exact when the previous window's events were evenly spread. Consequences: (1) no fixed window ever
 * counts more than `limit` events; (2) any true sliding window of windowMs holds fewer than 2 * limit allowed
 * events; that worst case needs a burst of `limit` at the very end of one window followed by traffic timed to
 * the decay of the estimate over the whole next window (a plain fixed-window counter reaches 2 * limit within
 * a couple of milliseconds around the boundary); (3) with steady traffic, the allowed rate stays within a few
 * percent of limit / windowMs (test/policy/counters.test.ts measures both). The estimate can also over-count
 * (previous events that all sat at the start of their window): a sender then waits a little longer than a
 * sliding log would make it wait, never less than the limit allows.
 *
 * A key whose window length changes (a rule edited to a new window_minutes) restarts its windows on the new
 * alignment and carries its current estimate as the new window's count, so an edit neither forgets recent
 * traffic nor lets a burst through.
 */

export type Awaitable<T> = T | Promise<T>;

export interface Take {
  allowed: boolean;
  /** The estimated count in the sliding window, including this event when it was allowed (rounded up). */
  count: number;
  /** When refused: how long until an event would be allowed, if nothing else is counted meanwhile; 0 if allowed. */
  retryAfterMs: number;
}

export interface Counters {
  /** Atomically: if the key's sliding-window estimate + 1 <= limit, count this event and allow it; else refuse. */
  take(key: string, limit: number, windowMs: number, now: number): Awaitable<Take>;
  /** Forgets keys with nothing left in their sliding window; returns how many were dropped. */
  sweep(now: number): Awaitable<number>;
}

/** The in-process implementation: synchronous (so atomic in one event loop), one small record per live key. */
export interface MemoryCounters extends Counters {
  take(key: string, limit: number, windowMs: number, now: number): Take;
  sweep(now: number): number;
  /** How many keys are held (for tests and metrics). */
  readonly size: number;
}

interface Entry {
  windowMs: number;
  /** Start of the current fixed window (a multiple of windowMs). */
  start: number;
  current: number;
  previous: number;
}

const windowStart = (now: number, windowMs: number) => Math.floor(now / windowMs) * windowMs;

/** Moves the entry's windows forward to the one holding `now` (a gap of two or more windows empties both). */
function advance(e: Entry, now: number): void {
  const start = windowStart(now, e.windowMs);
  if (start === e.start) return;
  e.previous = start - e.start === e.windowMs ? e.current : 0;
  e.current = 0;
  e.start = start;
}

const estimate = (e: Entry, now: number) => e.previous * ((e.windowMs - (now - e.start)) / e.windowMs) + e.current;

/** The earliest wait after which estimate + 1 <= limit, assuming nothing else is counted. */
function retryAfter(e: Entry, limit: number, now: number): number {
  if (limit < 1) return e.windowMs;
  const room = limit - 1;
  // Still in the current window: previous * (1 - x / W) + current <= room.
  if (e.current <= room && e.previous > 0) {
    const x = e.windowMs * (1 - (room - e.current) / e.previous);
    if (x < e.windowMs) return Math.max(1, Math.ceil(e.start + x - now));
  }
  // In the next window, where current becomes previous: current * (1 - x / W) <= room.
  const x = e.current <= room ? 0 : e.windowMs * (1 - room / e.current);
  return Math.max(1, Math.ceil(e.start + e.windowMs + x - now));
}

export function createMemoryCounters(): MemoryCounters {
  const entries = new Map<string, Entry>();
  return {
    take(key, limit, windowMs, now) {
      let e = entries.get(key);
      if (!e) {
        e = { windowMs, start: windowStart(now, windowMs), current: 0, previous: 0 };
        entries.set(key, e);
      } else if (e.windowMs !== windowMs) {
        advance(e, now);
        const carried = Math.ceil(estimate(e, now));
        e = { windowMs, start: windowStart(now, windowMs), current: carried, previous: 0 };
        entries.set(key, e);
      } else advance(e, now);
      const est = estimate(e, now);
      if (est + 1 <= limit) {
        e.current++;
        return { allowed: true, count: Math.ceil(est + 1), retryAfterMs: 0 };
      }
      return { allowed: false, count: Math.ceil(est), retryAfterMs: retryAfter(e, limit, now) };
    },
    sweep(now) {
      let dropped = 0;
      for (const [key, e] of entries)
        if (now >= e.start + 2 * e.windowMs) {
          entries.delete(key);
          dropped++;
        }
      return dropped;
    },
    get size() {
      return entries.size;
    },
  };
}
