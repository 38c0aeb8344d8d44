/**
 * Tokenizes one complete IMAP command (RFC 3501 9 formal syntax) whose literals the reader has already collected
 * inline (`{n}\r\n<n bytes>`). Rules: the tag is any run of ASTRING-CHAR except '+'; the command name is
 * upper-cased (`UID FETCH` is one name); atoms keep their spelling; `BODY[...]<a.b>` (and BINARY[...]) becomes one
 * atom token with a `section` and an optional `partial`; anything malformed throws ImapBad (never crashes).
 */
import { ImapBad, type Token } from './types.ts';

export interface ParsedCommand {
  tag: string;
  name: string;
  args: Token[];
}

const SP = 0x20;
const LPAREN = 0x28;
const RPAREN = 0x29;
const LBRACK = 0x5b;
const RBRACK = 0x5d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const LT = 0x3c;
const MAX_DEPTH = 32;

/** Characters that end an atom (atom-specials minus ']' which ends only a section). */
function isAtomEnd(c: number): boolean {
  return (
    c === SP ||
    c === LPAREN ||
    c === RPAREN ||
    c === LBRACK ||
    c === DQUOTE ||
    c === 0x0d ||
    c === 0x0a ||
    c < 0x20 ||
    c === 0x7f ||
    c === LBRACE
  );
}

export class Tokenizer {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  done(): boolean {
    return this.pos >= this.buf.length;
  }

  /** The command's tag (ends at the first space). */
  tag(): string {
    const start = this.pos;
    while (!this.done()) {
      const c = this.buf[this.pos]!;
      if (c === SP) break;
      if (
        c < 0x21 ||
        c > 0x7e ||
        c === LPAREN ||
        c === RPAREN ||
        c === LBRACE ||
        c === DQUOTE ||
        c === 0x25 ||
        c === 0x2a ||
        c === 0x2b ||
        c === BACKSLASH
      )
        throw new ImapBad('Invalid tag');
      this.pos++;
    }
    if (this.pos === start) throw new ImapBad('Missing tag');
    return this.buf.toString('latin1', start, this.pos);
  }

  space(): boolean {
    if (this.buf[this.pos] === SP) {
      this.pos++;
      return true;
    }
    return false;
  }

  /** A plain atom up to the next space/paren (used for the command name). */
  word(): string {
    const start = this.pos;
    while (!this.done() && !isAtomEnd(this.buf[this.pos]!) && this.buf[this.pos] !== RBRACK) this.pos++;
    if (start === this.pos) throw new ImapBad('Missing command');
    return this.buf.toString('latin1', start, this.pos);
  }

  /** Arguments until the end of the buffer (or `)` when `inList`). */
  tokens(inList = false, depth = 0): Token[] {
    if (depth > MAX_DEPTH) throw new ImapBad('Too deeply nested');
    const out: Token[] = [];
    let first = true;
    while (!this.done()) {
      const c = this.buf[this.pos]!;
      if (inList && c === RPAREN) return out;
      if (inList && c === RBRACK) return out;
      if (!first) {
        if (c !== SP) throw new ImapBad('Expected a space between arguments');
        this.pos++;
        if (this.done()) throw new ImapBad('Trailing space');
      } else if (!inList && c === SP) {
        throw new ImapBad('Unexpected space');
      }
      first = false;
      out.push(this.token(depth));
    }
    if (inList) throw new ImapBad('Unbalanced parentheses');
    return out;
  }

  token(depth: number): Token {
    const c = this.buf[this.pos];
    if (c === undefined) throw new ImapBad('Missing argument');
    if (c === LPAREN) {
      this.pos++;
      const items = this.tokens(true, depth + 1);
      if (this.buf[this.pos] !== RPAREN) throw new ImapBad('Unbalanced parentheses');
      this.pos++;
      return { type: 'list', items };
    }
    if (c === DQUOTE) return this.quoted();
    if (c === LBRACE) return this.literal();
    if (c === RPAREN) throw new ImapBad('Unbalanced parentheses');
    return this.atom(depth);
  }

  quoted(): Token {
    this.pos++;
    const bytes: number[] = [];
    while (true) {
      const c = this.buf[this.pos];
      if (c === undefined) throw new ImapBad('Unterminated quoted string');
      this.pos++;
      if (c === DQUOTE) break;
      if (c === 0x0d || c === 0x0a || c === 0) throw new ImapBad('Invalid character in quoted string');
      if (c === BACKSLASH) {
        const n = this.buf[this.pos];
        if (n !== DQUOTE && n !== BACKSLASH) throw new ImapBad('Invalid escape in quoted string');
        this.pos++;
        bytes.push(n);
        continue;
      }
      bytes.push(c);
    }
    return { type: 'string', value: Buffer.from(bytes), literal: false };
  }

  literal(): Token {
    const m = /^\{(\d{1,10})(\+?)\}\r\n/.exec(this.buf.toString('latin1', this.pos, this.pos + 16));
    if (!m) throw new ImapBad('Invalid literal');
    const n = Number(m[1]);
    const start = this.pos + m[0].length;
    if (start + n > this.buf.length) throw new ImapBad('Literal longer than the command');
    this.pos = start + n;
    return { type: 'string', value: this.buf.subarray(start, start + n), literal: true };
  }

  atom(depth: number): Token {
    const start = this.pos;
    while (!this.done()) {
      const c = this.buf[this.pos]!;
      if (isAtomEnd(c) || c === RBRACK) break;
      if (c >= 0x80) throw new ImapBad('8-bit character in an atom');
      this.pos++;
    }
    const value = this.buf.toString('latin1', start, this.pos);
    if (this.buf[this.pos] !== LBRACK) {
      if (!value) throw new ImapBad(`Unexpected character ${JSON.stringify(String.fromCharCode(this.buf[this.pos]!))}`);
      return { type: 'atom', value };
    }
    // fetch-att section: BODY[...], BODY.PEEK[...], BINARY[...], also used by the "atom" of e.g. BADCHARSET.
    if (!value) throw new ImapBad('Unexpected [');
    this.pos++;
    const section = this.tokens(true, depth + 1);
    if (this.buf[this.pos] !== RBRACK) throw new ImapBad('Unbalanced brackets');
    this.pos++;
    const token: Token = { type: 'atom', value, section };
    if (this.buf[this.pos] === LT) {
      const m = /^<(\d{1,10})(?:\.(\d{1,10}))?>/.exec(this.buf.toString('latin1', this.pos, this.pos + 24));
      if (!m) throw new ImapBad('Invalid partial <offset.length>');
      this.pos += m[0].length;
      token.partial = [Number(m[1]), m[2] === undefined ? Number.POSITIVE_INFINITY : Number(m[2])];
    }
    return token;
  }
}

/** Parses `tag SP command [SP args]`. The buffer excludes the final CRLF. */
export function parseCommand(buf: Buffer): ParsedCommand {
  const t = new Tokenizer(buf);
  const tag = t.tag();
  if (!t.space()) throw new BadTagged(tag, 'Missing command');
  try {
    let name = t.word().toUpperCase();
    if (name === 'UID') {
      if (!t.space()) throw new ImapBad('Missing command after UID');
      name = `UID ${t.word().toUpperCase()}`;
    }
    let args: Token[] = [];
    if (!t.done()) {
      if (!t.space()) throw new ImapBad('Expected a space after the command');
      if (t.done()) throw new ImapBad('Trailing space');
      args = t.tokens();
    }
    return { tag, name, args };
  } catch (e) {
    if (e instanceof ImapBad) throw new BadTagged(tag, e.text);
    throw e;
  }
}

/** A syntax error after the tag was read: the answer is `tag BAD text`. */
export class BadTagged extends ImapBad {
  constructor(
    readonly tag: string,
    text: string,
  ) {
    super(text);
  }
}
