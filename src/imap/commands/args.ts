/**
 * Argument helpers for command modules. Rules: every helper names what it expected in its ImapBad; strings are
 * decoded as UTF-8; mailbox names are normalised ("inbox" -> "INBOX") and must not be empty or contain control
 * characters (BAD); a new name (CREATE, RENAME's target) must also be valid modified UTF-7 (RFC 3501 5.1.3; no
 * UTF8=ACCEPT here), without '*' or '%' (wildcards) or empty hierarchy levels, and short enough for its Maildir++
 * folder (NO).
 */
import { normalizeMailboxName } from '../../repos/mailboxes.ts';
import { fitsOnDisk } from '../../store/mailStore.ts';
import { isModifiedUtf7 } from '../protocol/mutf7.ts';
import { ImapBad, ImapNo, type Token } from '../protocol/types.ts';

export function noMore(args: Token[], n: number, what: string): void {
  if (args.length > n) throw new ImapBad(`Too many arguments to ${what}`);
}

export function need(args: Token[], i: number, what: string): Token {
  const t = args[i];
  if (!t) throw new ImapBad(`Missing ${what}`);
  return t;
}

/** atom or string as text. */
export function text(t: Token, what: string): string {
  if (t.type === 'atom' && !t.section) return t.value;
  if (t.type === 'string') return t.value.toString('utf8');
  throw new ImapBad(`Expected ${what}`);
}

export function atomArg(t: Token | undefined, what: string): string {
  if (t?.type !== 'atom' || t.section) throw new ImapBad(`Expected ${what}`);
  return t.value;
}

export function listArg(t: Token | undefined, what: string): Token[] {
  if (t?.type !== 'list') throw new ImapBad(`Expected a parenthesized ${what}`);
  return t.items;
}

export function numberArg(t: Token | undefined, what: string): number {
  const v = t && t.type === 'atom' ? t.value : '';
  if (!/^\d{1,19}$/.test(v)) throw new ImapBad(`Expected a number for ${what}`);
  return Number(v);
}

export function mailboxArg(t: Token | undefined, what = 'a mailbox name'): string {
  if (!t) throw new ImapBad(`Missing ${what}`);
  const name = text(t, what);
  if (!name) throw new ImapBad('Empty mailbox name');
  if (/[\x00-\x1f\x7f]/.test(name)) throw new ImapBad('Invalid character in the mailbox name');
  if (name.length > 1000) throw new ImapBad('Mailbox name too long');
  return normalizeMailboxName(name);
}

/** A name for CREATE/RENAME targets: no wildcards, no empty levels. A trailing '/' is dropped (RFC 3501 6.3.3). */
export function newMailboxName(t: Token | undefined): string {
  return checkNewMailboxName(mailboxArg(t));
}

/** newMailboxName's checks on a name already read by mailboxArg. */
export function checkNewMailboxName(read: string): string {
  let name = read;
  if (name.endsWith('/')) name = name.slice(0, -1);
  if (!isModifiedUtf7(name)) throw new ImapNo('Mailbox name is not valid modified UTF-7', 'CANNOT');
  if (/[*%]/.test(name)) throw new ImapBad('Mailbox names cannot contain * or %');
  if (!name || name.split('/').some((p) => p === '')) throw new ImapBad('Invalid mailbox name (empty hierarchy level)');
  // Maildir++ keeps a whole hierarchy in one directory name (".Archive.2026"), which a filesystem limits to 255.
  if (!fitsOnDisk(name)) throw new ImapNo('Mailbox name too long', 'LIMIT');
  return name;
}

const SYSTEM = new Map(['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'].map((f) => [f.toUpperCase(), f]));

/** A flag list `(\Seen $Label)` or a single flag; \Recent and unknown system flags are refused. */
export function flagsArg(t: Token | undefined): string[] {
  if (!t) throw new ImapBad('Missing flags');
  const items = t.type === 'list' ? t.items : [t];
  const out: string[] = [];
  for (const it of items) {
    if (it.type !== 'atom' || it.section) throw new ImapBad('Flags must be atoms');
    const v = it.value;
    if (v.startsWith('\\')) {
      const sys = SYSTEM.get(v.toUpperCase());
      if (!sys) throw new ImapBad(`Invalid system flag ${v}`);
      if (!out.includes(sys)) out.push(sys);
    } else {
      if (!/^[^(){ %*"\\\]\x00-\x1f\x7f-\xff]+$/.test(v)) throw new ImapBad(`Invalid keyword ${v}`);
      if (!out.some((k) => k.toLowerCase() === v.toLowerCase())) out.push(v);
    }
  }
  return out;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `date-time` (RFC 3501 9): "17-Jul-1996 02:44:25 -0700" -> ms since epoch. */
export function parseDateTime(s: string): number {
  const m = /^ ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(s);
  const month = m ? MONTHS.findIndex((x) => x.toLowerCase() === m[2]!.toLowerCase()) : -1;
  if (!m || month < 0) throw new ImapBad(`Invalid date-time ${JSON.stringify(s)}`);
  const [d, y, hh, mm, ss, oh, om] = [m[1], m[3], m[4], m[5], m[6], m[8], m[9]].map(Number) as number[];
  if (d! < 1 || d! > 31 || hh! > 23 || mm! > 59 || ss! > 60)
    throw new ImapBad(`Invalid date-time ${JSON.stringify(s)}`);
  const offset = (m[7] === '-' ? -1 : 1) * (oh! * 60 + om!);
  return Date.UTC(y!, month, d!, hh!, mm!, ss!) - offset * 60_000;
}

/** INTERNALDATE as `date-time`, in UTC. */
export function formatDateTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}
