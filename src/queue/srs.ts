/**
 * The Sender Rewriting Scheme as libsrs2 and postsrsd do it (Shevek's "guarded" scheme), so addresses rewritten
 * here reverse there and back with the same secret. Rules:
 *  - forward(sender, localDomain): the null sender stays null (''), a sender without a domain and a sender already
 *    in localDomain stay as they are; `local@domain` becomes `SRS0=HHHH=TT=domain=local@localDomain`; a foreign
 *    `SRS0<sep>rest@fwd` becomes `SRS1=HHHH=fwd==rest@localDomain` (`=rest` keeps its separator, hence `==`) and a
 *    foreign `SRS1=X=first=rest@fwd` becomes `SRS1=HHHH=first=rest@localDomain` (the first forwarder is kept; a
 *    malformed SRS1 is rewritten as an ordinary address);
 *  - TT: the day number (Unix time / 86400) modulo 1024 as two base32 characters (A-Z2-7); HHHH: the first 4
 *    characters of the base64 HMAC-SHA1, keyed with the secret, over the ASCII-lowercased fields concatenated
 *    (SRS0: TT, domain, local; SRS1: first forwarder, rest);
 *  - reverse(address): SRS0 -> `local@domain` after the timestamp (at most maxAgeDays old; one from the future
 *    counts as old, the modulo wraps) and the hash (compared case-insensitively, in constant time) are checked;
 *    SRS1 -> the first forwarder's SRS0 address (`SRS0=rest@first`) after its hash is checked; failures throw
 *    SrsError with reason 'syntax' (not SRS, or fields missing), 'expired' or 'hash';
 *  - the tags SRS0/SRS1 are matched case-insensitively and may be followed by '=', '+' or '-' (libsrs2's
 *    separators); addresses made here use `separator` ('=' by default) after the tag and '=' between fields.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type SrsFailure = 'hash' | 'expired' | 'syntax';

export class SrsError extends Error {
  constructor(
    readonly reason: SrsFailure,
    message: string,
  ) {
    super(message);
    this.name = 'SrsError';
  }
}

export interface SrsOptions {
  /** The clock, in ms (tests move it). */
  now?: () => number;
  /** How many days a rewritten address can be reversed (21, as libsrs2). */
  maxAgeDays?: number;
  /** The character after SRS0/SRS1 ('=' as postsrsd's default). */
  separator?: '=' | '+' | '-';
}

const TIME_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const TIME_SLOTS = 1024;
const DAY_S = 86_400;
const HASH_LENGTH = 4;
const SEP = '=';
const TAG = /^SRS([01])[=+-]/i;

/** ASCII-only lowercasing, as libsrs2's tolower() in the C locale. */
const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** Splits an address at its last '@': [local, domain], or null without one. */
function split(address: string): [string, string] | null {
  const at = address.lastIndexOf('@');
  if (at < 0) return null;
  return [address.slice(0, at), address.slice(at + 1)];
}

export function createSrs(secret: Buffer, opts: SrsOptions = {}) {
  const now = opts.now ?? Date.now;
  const maxAge = opts.maxAgeDays ?? 21;
  const separator = opts.separator ?? '=';
  if (!secret.length) throw new Error('SRS needs a non-empty secret');

  const hash = (...fields: string[]): string => {
    const h = createHmac('sha1', secret);
    for (const f of fields) h.update(asciiLower(f), 'utf8');
    return h.digest('base64').slice(0, HASH_LENGTH);
  };

  const hashOk = (given: string, ...fields: string[]): boolean => {
    const a = Buffer.from(given.toUpperCase());
    const b = Buffer.from(hash(...fields).toUpperCase());
    return a.length === b.length && timingSafeEqual(a, b);
  };

  const today = () => Math.floor(now() / 1000 / DAY_S) % TIME_SLOTS;

  const stamp = (): string => {
    const d = today();
    return TIME_CHARS[(d >> 5) & 31]! + TIME_CHARS[d & 31]!;
  };

  const checkStamp = (tt: string): void => {
    if (tt.length !== 2) throw new SrsError('syntax', 'bad timestamp in SRS address');
    let then = 0;
    for (const c of tt.toUpperCase()) {
      const v = TIME_CHARS.indexOf(c);
      if (v < 0) throw new SrsError('syntax', 'bad timestamp in SRS address');
      then = (then << 5) | v;
    }
    let d = today();
    while (d < then) d += TIME_SLOTS;
    if (d > then + maxAge) throw new SrsError('expired', 'SRS address timestamp out of date');
  };

  const srs1 = (first: string, rest: string, localDomain: string) =>
    `SRS1${separator}${hash(first, rest)}${SEP}${first}${SEP}${rest}@${localDomain}`;

  const srs = {
    /** The address to use as envelope sender when forwarding mail from `sender` out of `localDomain`. */
    forward(sender: string, localDomain: string): string {
      if (sender === '' || sender === '<>') return '';
      const parts = split(sender);
      if (!parts?.[1]) return sender;
      const [local, domain] = parts;
      if (asciiLower(domain) === asciiLower(localDomain)) return sender;
      const tag = TAG.exec(local);
      if (tag?.[1] === '1') {
        // SRS1<sep>hash=first=rest: keep the first forwarder and the rest, re-sign for this domain.
        const body = local.slice(5);
        const i = body.indexOf(SEP);
        const j = i < 0 ? -1 : body.indexOf(SEP, i + 1);
        if (i > 0 && j > i + 1) return srs1(body.slice(i + 1, j), body.slice(j + 1), localDomain);
      } else if (tag) {
        // A foreign SRS0: its forwarder becomes the first forwarder; the rest keeps its separator.
        return srs1(domain, local.slice(4), localDomain);
      }
      const tt = stamp();
      return `SRS0${separator}${hash(tt, domain, local)}${SEP}${tt}${SEP}${domain}${SEP}${local}@${localDomain}`;
    },

    /** The address an SRS address stands for (see the rules above); throws SrsError. */
    reverse(address: string): string {
      const parts = split(address);
      const tag = parts && TAG.exec(parts[0]);
      if (!parts || !tag) throw new SrsError('syntax', 'not an SRS address');
      const fields = parts[0].slice(5);
      if (tag[1] === '1') {
        const i = fields.indexOf(SEP);
        const j = i < 0 ? -1 : fields.indexOf(SEP, i + 1);
        if (i < 1) throw new SrsError('syntax', 'no hash in SRS1 address');
        if (j < 0 || j === i + 1) throw new SrsError('syntax', 'no host in SRS1 address');
        const [h, first, rest] = [fields.slice(0, i), fields.slice(i + 1, j), fields.slice(j + 1)];
        if (!rest) throw new SrsError('syntax', 'no user in SRS1 address');
        if (!hashOk(h, first, rest)) throw new SrsError('hash', 'hash invalid in SRS1 address');
        return `SRS0${rest}@${first}`;
      }
      const f = fields.split(SEP);
      if (!f[0]) throw new SrsError('syntax', 'no hash in SRS0 address');
      if (f.length < 2) throw new SrsError('syntax', 'no timestamp in SRS0 address');
      if (f.length < 3 || !f[2]) throw new SrsError('syntax', 'no host in SRS0 address');
      const [h, tt, domain] = [f[0], f[1]!, f[2]];
      const local = f.slice(3).join(SEP);
      if (!local) throw new SrsError('syntax', 'no user in SRS0 address');
      checkStamp(tt);
      if (!hashOk(h, tt, domain, local)) throw new SrsError('hash', 'hash invalid in SRS0 address');
      return `${local}@${domain}`;
    },

    /** True for an SRS0 or SRS1 address (by its tag only; reverse() checks the rest). */
    isSrs(address: string): boolean {
      const parts = split(address);
      return !!parts && TAG.test(parts[0]);
    },
  };
  return srs;
}

export type Srs = ReturnType<typeof createSrs>;
