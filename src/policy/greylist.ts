/**
 * Greylisting (RFC 6647): a delivery from an unknown (client network, sender, recipient) triplet is deferred with a
 * temporary failure; a sender that retries after the delay, as a real MTA does, is let through.
 *
 * Rules:
 * - The triplet: the client's network (/24 for IPv4, /64 for IPv6; an IPv4-mapped IPv6 address is its IPv4
 *   address), the envelope sender lower-cased (the null sender <> is ''), the recipient lower-cased. A network,
 *   not an address, because large senders retry from another host of the same pool.
 * - Per check, with the recipient domain's settings (read per call, so an edit applies at once):
 *   unknown, or last seen more than greylist_expiry_days ago -> recorded as first seen now, tempfail `greylisted`;
 *   passed at least greylist_whitelist_after times -> pass at once;
 *   retried before greylist_delay_minutes since first seen -> tempfail again (first seen is kept, last seen moves);
 *   retried after the delay -> pass, and the pass is counted.
 *   A pass returns null (nothing to say); the SMTP layer maps the tempfail to 451 4.7.1 (smtp/replies.ts).
 * - Auto-whitelisting is per triplet (the rule; Postgrey's --auto-whitelist-clients is per client). As
 *   first seen never moves while a triplet is live, a triplet that passed once keeps passing anyway; the
 *   threshold matters when the delay is raised later: a whitelisted triplet is not made to wait again, one with
 *   fewer passes is. greylist_whitelist_after = 0 means never auto-whitelist (0 passes would otherwise whitelist
 *   every triplet before its first deferral, which is what greylist_enabled = false is for).
 * - State lives behind GreylistStore (SQLite: repos/greylist.ts; a Redis store can replace it: results may be
 *   Promises, this module awaits them). Between reading a triplet and writing it another session may act on the
 *   same triplet; the worst outcome is one extra deferral (insert() is an upsert, never a duplicate).
 * - cleanup() deletes rows last seen before now - expiryDays; with per-domain expiry days the caller passes the
 *   largest (a check treats a row by its own domain's expiry whether or not cleanup has run).
 * - The clock is injected (`now`, ms).
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { GreylistEntry, GreylistTriplet } from '../repos/greylist.ts';
import type { Awaitable } from './counters.ts';
import type { CheckResult } from './verdict.ts';

/** The row shapes are the SQLite repository's; another store (Redis) keeps the same. */
export type { GreylistEntry, GreylistTriplet };

export interface GreylistStore {
  get(t: GreylistTriplet): Awaitable<GreylistEntry | undefined>;
  /** Records the triplet as first and last seen now with no passes (also over an expired entry). */
  insert(t: GreylistTriplet, now: number): Awaitable<void>;
  /** Sets last seen to now; `passed` adds one to the pass count. */
  update(t: GreylistTriplet, now: number, passed: boolean): Awaitable<void>;
  /** Deletes entries last seen before `before`; returns how many. */
  deleteExpired(before: number): Awaitable<number>;
}

/** The domain columns a check reads (a DomainRow has them all). */
export interface GreylistSettings {
  greylist_enabled: boolean;
  greylist_delay_minutes: number;
  greylist_expiry_days: number;
  greylist_whitelist_after: number;
}

export interface GreylistAttempt {
  /** The client's IP address (IPv4, IPv6 or IPv4-mapped IPv6; an IPv6 zone is ignored). */
  ip: string;
  /** The envelope sender: an address, '<>' or '' for the null sender. */
  sender: string;
  recipient: string;
}

export interface Greylist {
  check(attempt: GreylistAttempt, settings: GreylistSettings): Promise<CheckResult | null>;
  /** Deletes triplets last seen more than expiryDays before now; returns how many. */
  cleanup(now: number, expiryDays: number): Promise<number>;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** The eight 16-bit groups of an IPv6 address (a trailing dotted quad becomes two groups). */
function ipv6Groups(ip: string): number[] {
  let s = ip;
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    s = `${s.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = s.split('::') as [string, string | undefined];
  const parse = (part: string | undefined) => (part ? part.split(':').map((h) => Number.parseInt(h, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  const zeros = tail === undefined ? [] : new Array<number>(8 - left.length - right.length).fill(0);
  return [...left, ...zeros, ...right];
}

/** The greylisting network of a client address: "a.b.c.0/24" or an RFC 5952 "x:x:x:x::/64". */
export function clientNetwork(ip: string): string {
  const addr = ip.replace(/%.*$/, '');
  if (isIPv4(addr)) return `${addr.split('.').slice(0, 3).join('.')}.0/24`;
  if (!isIPv6(addr)) throw new TypeError(`not an IP address: ${ip}`);
  const g = ipv6Groups(addr.toLowerCase());
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `${g[6]! >> 8}.${g[6]! & 0xff}.${g[7]! >> 8}.0/24`;
  return `${formatIpv6([...g.slice(0, 4), 0, 0, 0, 0])}/64`;
}

/** RFC 5952 text of eight groups: short hex, the longest run of two or more zero groups (the first) as "::". */
function formatIpv6(g: number[]): string {
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (best.at < 0) return hex(g);
  return `${hex(g.slice(0, best.at))}::${hex(g.slice(best.at + best.len))}`;
}

/** The normalized triplet of an attempt (see the module rules). */
export function tripletOf(a: GreylistAttempt): GreylistTriplet {
  const bare = (s: string) =>
    s
      .trim()
      .replace(/^<(.*)>$/, '$1')
      .toLowerCase();
  return { ip_net: clientNetwork(a.ip), sender: bare(a.sender), recipient: bare(a.recipient) };
}

export function createGreylist(opts: { store: GreylistStore; now?: () => number }): Greylist {
  const { store, now = Date.now } = opts;
  const deferred = (t: GreylistTriplet, waitMs: number): CheckResult => {
    const retryAfterS = Math.max(1, Math.ceil(waitMs / 1000));
    return {
      check: 'greylist',
      action: 'tempfail',
      reason: 'greylisted',
      text: `Greylisted, try again in ${retryAfterS} seconds`,
      detail: { ip_net: t.ip_net, retry_after_s: retryAfterS },
    };
  };
  return {
    async check(attempt, settings) {
      if (!settings.greylist_enabled) return null;
      const t = tripletOf(attempt);
      const at = now();
      const delayMs = settings.greylist_delay_minutes * MINUTE;
      const e = await store.get(t);
      if (!e || e.last_seen_at < at - settings.greylist_expiry_days * DAY) {
        await store.insert(t, at);
        return deferred(t, delayMs);
      }
      const whitelisted = settings.greylist_whitelist_after > 0 && e.pass_count >= settings.greylist_whitelist_after;
      const waited = at - e.first_seen_at;
      if (!whitelisted && waited < delayMs) {
        await store.update(t, at, false);
        return deferred(t, delayMs - waited);
      }
      await store.update(t, at, true);
      return null;
    },
    async cleanup(at, expiryDays) {
      return store.deleteExpired(at - expiryDays * DAY);
    },
  };
}
