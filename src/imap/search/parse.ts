/**
 * SEARCH criteria parser (RFC 3501 6.4.4 and 9 "search", RFC 9051 6.4.4, RFC 7162 3.1.5 MODSEQ, RFC 4731
 * RETURN options, RFC 6855 3 CHARSET after UTF8=ACCEPT). Rules: keys are case-insensitive; several keys are
 * ANDed, a list is ANDed; a string argument is an atom, a quoted string or a literal, decoded as UTF-8 whatever
 * the CHARSET; CHARSET may only come first, UTF-8 and US-ASCII are accepted (anything else is NO [BADCHARSET]);
 * after UTF8=ACCEPT only `CHARSET UTF-8` is tolerated (US-ASCII conflicts: BAD); syntax errors are BAD.
 */
import { parseSequenceSet } from '../protocol/sequenceSet.ts';
import { ImapBad, ImapNo, type Token } from '../protocol/types.ts';
import { parseSearchDate } from './dates.ts';
import type { DateOp, SearchKey, SearchProgram, SearchReturnOption } from './types.ts';

export type { SearchKey, SearchProgram, SearchReturnOption } from './types.ts';

export interface SearchParseOptions {
  /** UTF8=ACCEPT is enabled (RFC 6855). */
  utf8Enabled?: boolean;
}

const FLAG_KEYS: Record<string, [flag: string, set: boolean]> = {
  ANSWERED: ['\\Answered', true],
  DELETED: ['\\Deleted', true],
  DRAFT: ['\\Draft', true],
  FLAGGED: ['\\Flagged', true],
  SEEN: ['\\Seen', true],
  UNANSWERED: ['\\Answered', false],
  UNDELETED: ['\\Deleted', false],
  UNDRAFT: ['\\Draft', false],
  UNFLAGGED: ['\\Flagged', false],
  UNSEEN: ['\\Seen', false],
};
const DATE_KEYS: Record<string, ['internaldate' | 'sentdate', DateOp]> = {
  BEFORE: ['internaldate', 'before'],
  ON: ['internaldate', 'on'],
  SINCE: ['internaldate', 'since'],
  SENTBEFORE: ['sentdate', 'before'],
  SENTON: ['sentdate', 'on'],
  SENTSINCE: ['sentdate', 'since'],
};
const ADDRESS_KEYS = new Set(['BCC', 'CC', 'FROM', 'SUBJECT', 'TO']);
const CHARSETS = new Set(['UTF-8', 'US-ASCII']);
const RETURN_OPTIONS = new Set<string>(['MIN', 'MAX', 'ALL', 'COUNT', 'SAVE']);
const MAX_DEPTH = 100;
const MAX_MODSEQ = 0x7fffffffffffffffn;

/** Parses the tokens after `SEARCH` (and after any `RETURN (...)`). */
export function parseSearch(args: Token[], opts: SearchParseOptions = {}): SearchProgram {
  let pos = 0;
  let charset: string | null = null;
  const first = args[0];
  if (first?.type === 'atom' && first.value.toUpperCase() === 'CHARSET') {
    const name = args[1];
    if (!name || name.type === 'list') throw new ImapBad('SEARCH CHARSET needs a charset name');
    charset = text(name).toUpperCase();
    if (!CHARSETS.has(charset))
      throw new ImapNo(`Unsupported charset ${charset.slice(0, 40)}`, 'BADCHARSET (UTF-8 US-ASCII)');
    if (opts.utf8Enabled && charset !== 'UTF-8') throw new ImapBad('SEARCH CHARSET conflicts with UTF8=ACCEPT');
    pos = 2;
  }
  const p = new Parser(args.slice(pos));
  const keys: SearchKey[] = [];
  while (!p.done()) keys.push(p.key(0));
  if (keys.length === 0) throw new ImapBad('SEARCH needs at least one search key');
  return {
    root: keys.length === 1 ? keys[0]! : { type: 'and', keys },
    charset,
    usesModseq: p.usesModseq,
    needsHeaders: p.needsHeaders,
    needsBody: p.needsBody,
  };
}

/**
 * Splits an optional leading `RETURN (opts)` off SEARCH arguments (RFC 4731 3.1). `options` is null when there
 * is no RETURN (a classic `* SEARCH` answer), and `RETURN ()` means `RETURN (ALL)`.
 */
export function parseSearchReturn(args: Token[]): { options: SearchReturnOption[] | null; rest: Token[] } {
  const first = args[0];
  if (first?.type !== 'atom' || first.value.toUpperCase() !== 'RETURN') return { options: null, rest: args };
  const list = args[1];
  if (list?.type !== 'list') throw new ImapBad('SEARCH RETURN needs a parenthesized list of options');
  const options: SearchReturnOption[] = [];
  for (const t of list.items) {
    const name = t.type === 'atom' ? t.value.toUpperCase() : '';
    if (!RETURN_OPTIONS.has(name)) throw new ImapBad('Unknown SEARCH RETURN option');
    if (!options.includes(name as SearchReturnOption)) options.push(name as SearchReturnOption);
  }
  return { options: options.length ? options : ['ALL'], rest: args.slice(2) };
}

function text(t: Token): string {
  if (t.type === 'atom') return t.value;
  if (t.type === 'string') return t.value.toString('utf8');
  throw new ImapBad('Expected a string, got a list');
}

class Parser {
  private pos = 0;
  usesModseq = false;
  needsHeaders = false;
  needsBody = false;

  constructor(private readonly tokens: Token[]) {}

  done(): boolean {
    return this.pos >= this.tokens.length;
  }

  private next(key: string, what: string): Token {
    const t = this.tokens[this.pos++];
    if (!t) throw new ImapBad(`SEARCH ${key} needs ${what}`);
    return t;
  }

  private str(key: string): string {
    const t = this.next(key, 'a string');
    if (t.type === 'list') throw new ImapBad(`SEARCH ${key} needs a string, not a list`);
    return text(t);
  }

  private atom(key: string, what: string): string {
    const t = this.next(key, what);
    if (t.type === 'list') throw new ImapBad(`SEARCH ${key} needs ${what}, not a list`);
    return text(t);
  }

  private num(key: string): number {
    const v = this.atom(key, 'a number');
    if (!/^[0-9]{1,16}$/.test(v) || Number(v) > Number.MAX_SAFE_INTEGER) {
      throw new ImapBad(`SEARCH ${key}: invalid number ${v.slice(0, 30)}`);
    }
    return Number(v);
  }

  key(depth: number): SearchKey {
    if (depth > MAX_DEPTH) throw new ImapBad('SEARCH criteria nested too deeply');
    const t = this.tokens[this.pos++]!;
    if (t.type === 'list') {
      if (t.items.length === 0) throw new ImapBad('SEARCH: empty parenthesized list');
      const inner = new Parser(t.items);
      const keys: SearchKey[] = [];
      while (!inner.done()) keys.push(inner.key(depth + 1));
      this.usesModseq ||= inner.usesModseq;
      this.needsHeaders ||= inner.needsHeaders;
      this.needsBody ||= inner.needsBody;
      return keys.length === 1 ? keys[0]! : { type: 'and', keys };
    }
    if (t.type === 'string') throw new ImapBad('SEARCH: expected a search key, got a string');
    const word = t.value.toUpperCase();
    const flag = FLAG_KEYS[word];
    if (flag) return flag[1] ? { type: 'flag', flag: flag[0] } : not({ type: 'flag', flag: flag[0] });
    const date = DATE_KEYS[word];
    if (date) {
      const v = this.atom(word, 'a date');
      const day = parseSearchDate(v);
      if (day === null) throw new ImapBad(`SEARCH ${word}: invalid date ${v.slice(0, 30)} (expected d-Mon-yyyy)`);
      if (date[0] === 'sentdate') this.needsHeaders = true;
      return { type: date[0], op: date[1], day };
    }
    if (ADDRESS_KEYS.has(word)) {
      this.needsHeaders = true;
      return { type: 'header', name: word.toLowerCase(), value: this.str(word) };
    }
    switch (word) {
      case 'ALL':
        return { type: 'all' };
      case 'RECENT':
        return { type: 'recent' };
      case 'NEW':
        return { type: 'and', keys: [{ type: 'recent' }, not({ type: 'flag', flag: '\\Seen' })] };
      case 'OLD':
        return not({ type: 'recent' });
      case 'KEYWORD':
        return { type: 'flag', flag: this.atom(word, 'a keyword') };
      case 'UNKEYWORD':
        return not({ type: 'flag', flag: this.atom(word, 'a keyword') });
      case 'LARGER':
        return { type: 'size', op: 'larger', size: this.num(word) };
      case 'SMALLER':
        return { type: 'size', op: 'smaller', size: this.num(word) };
      case 'UID':
        return { type: 'uid', set: parseSequenceSet(this.atom(word, 'a UID set')) };
      case 'HEADER': {
        const name = this.str(word).trim();
        if (!name) throw new ImapBad('SEARCH HEADER needs a field name');
        this.needsHeaders = true;
        return { type: 'header', name: name.toLowerCase(), value: this.str(word) };
      }
      case 'BODY':
        this.needsBody = true;
        return { type: 'body', value: this.str(word) };
      case 'TEXT':
        this.needsHeaders = true;
        this.needsBody = true;
        return { type: 'text', value: this.str(word) };
      case 'NOT':
        if (this.done()) throw new ImapBad('SEARCH NOT needs a search key');
        return not(this.key(depth + 1));
      case 'OR': {
        if (this.done()) throw new ImapBad('SEARCH OR needs two search keys');
        const left = this.key(depth + 1);
        if (this.done()) throw new ImapBad('SEARCH OR needs two search keys');
        return { type: 'or', left, right: this.key(depth + 1) };
      }
      case 'MODSEQ':
        return this.modseq();
    }
    if (/^[0-9*][0-9*:,]*$/.test(word)) return { type: 'seq', set: parseSequenceSet(word) };
    throw new ImapBad(`SEARCH: unknown search key ${word.slice(0, 40)}`);
  }

  /** RFC 7162 3.1.5: `MODSEQ [<entry-name> <entry-type-req>] <mod-sequence-valzer>`. */
  private modseq(): SearchKey {
    this.usesModseq = true;
    let entry: { name: string; kind: 'priv' | 'shared' | 'all' } | undefined;
    const t = this.tokens[this.pos];
    if (t && t.type !== 'list' && !/^[0-9]+$/.test(text(t))) {
      const name = this.str('MODSEQ');
      const kind = this.atom('MODSEQ', 'an entry type (priv, shared or all)').toLowerCase();
      if (kind !== 'priv' && kind !== 'shared' && kind !== 'all') throw new ImapBad('SEARCH MODSEQ: bad entry type');
      if (!/^\/flags\/\S+$/i.test(name)) throw new ImapBad('SEARCH MODSEQ: bad entry name');
      entry = { name, kind };
    }
    const v = this.atom('MODSEQ', 'a mod-sequence value');
    if (!/^[0-9]{1,19}$/.test(v) || BigInt(v) > MAX_MODSEQ)
      throw new ImapBad(`SEARCH MODSEQ: invalid value ${v.slice(0, 30)}`);
    return entry ? { type: 'modseq', modseq: BigInt(v), entry } : { type: 'modseq', modseq: BigInt(v) };
  }
}

function not(key: SearchKey): SearchKey {
  return key.type === 'not' ? key.key : { type: 'not', key };
}
