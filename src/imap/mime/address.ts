/**
 * Address lists for ENVELOPE (RFC 5322 3.4, RFC 3501 7.4.2 "addr-name addr-adl addr-mailbox addr-host"),
 * robust the way Dovecot 2.3 is: never throws; a group gives (NIL NIL name NIL) ... (NIL NIL NIL NIL); a
 * missing local part or domain becomes "MISSING_MAILBOX" / "MISSING_DOMAIN", an unclosed "<" makes the host
 * "SYNTAX_ERROR", a bad route "INVALID_ROUTE"; a comment names an address without a display name; after a
 * broken element the list continues only at a comma. Names stay as written (encoded words are not decoded).
 */

export interface Address {
  name: string | null;
  adl: string | null;
  mailbox: string | null;
  host: string | null;
}

type Tok = { k: 'word'; v: string; quoted: boolean } | { k: 'special'; v: string } | { k: 'comment'; v: string };

function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') i++;
    else if (c === '"') {
      let v = '';
      for (i++; i < s.length && s[i] !== '"'; i++) {
        if (s[i] === '\\') i++;
        v += s[i] ?? '';
      }
      i++;
      out.push({ k: 'word', v, quoted: true });
    } else if (c === '(') {
      let depth = 0;
      let v = '';
      for (; i < s.length; i++) {
        const d = s[i]!;
        if (d === '\\') {
          v += s[++i] ?? '';
          continue;
        }
        if (d === '(' && depth++ === 0) continue;
        if (d === ')' && --depth === 0) {
          i++;
          break;
        }
        v += d;
      }
      out.push({ k: 'comment', v: v.trim() });
    } else if (c === '[') {
      const close = s.indexOf(']', i);
      const stop = close < 0 ? s.length : close + 1;
      out.push({ k: 'word', v: s.slice(i, stop), quoted: false });
      i = stop;
    } else if ('<>:;@,.'.includes(c)) {
      out.push({ k: 'special', v: c });
      i++;
    } else {
      const start = i;
      while (i < s.length && !' \t\r\n"()<>[]:;@,.\\'.includes(s[i]!)) i++;
      if (i === start) i++;
      out.push({ k: 'word', v: s.slice(start, i), quoted: false });
    }
  }
  return out;
}

const MISSING: Address = { name: null, adl: null, mailbox: 'MISSING_MAILBOX', host: 'MISSING_DOMAIN' };

class AddressParser {
  private i = 0;
  private comment: string | null = null;
  readonly out: Address[] = [];
  constructor(private readonly toks: Tok[]) {}

  private peek(): Tok | undefined {
    for (;;) {
      const t = this.toks[this.i];
      if (t?.k !== 'comment') return t;
      this.comment = t.v;
      this.i++;
    }
  }
  private isSpecial(v: string): boolean {
    const t = this.peek();
    return t?.k === 'special' && t.v === v;
  }

  /** Words and dots: [text as a phrase, text as a local part or null if it is not one]. */
  private words(): [string, string | null] {
    const phrase: string[] = [];
    let local = '';
    let valid = true;
    let lastWasWord = false;
    for (let t = this.peek(); t && (t.k === 'word' || t.v === '.'); t = this.peek()) {
      this.i++;
      if (t.k === 'word') {
        if (lastWasWord) valid = false;
        if (!t.quoted && t.v.startsWith('[')) valid = false;
        if (lastWasWord || !phrase.length) phrase.push(t.v);
        else phrase[phrase.length - 1] += t.v;
        lastWasWord = true;
      } else {
        if (phrase.length) phrase[phrase.length - 1] += '.';
        else phrase.push('.');
        lastWasWord = false;
      }
      local += t.v;
    }
    return [phrase.join(' '), phrase.length && valid ? local : null];
  }

  private domain(): string {
    let d = '';
    for (let t = this.peek(); t && (t.k === 'word' || t.v === '.'); t = this.peek()) {
      d += t.v;
      this.i++;
    }
    return d;
  }

  /** Parses the whole list. */
  list(inGroup = false): void {
    while (this.peek()) {
      if (inGroup && this.isSpecial(';')) return;
      const ok = this.element(inGroup);
      if (this.isSpecial(',')) this.i++;
      else if (!ok || (this.peek() && !(inGroup && this.isSpecial(';')))) return;
    }
  }

  /** One mailbox or group; false if it was broken. */
  private element(inGroup: boolean): boolean {
    this.comment = null;
    if (this.isSpecial(',')) {
      this.out.push({ ...MISSING });
      return false;
    }
    const [phrase, local] = this.words();
    if (!inGroup && this.isSpecial(':')) {
      this.i++;
      this.out.push({ name: null, adl: null, mailbox: phrase, host: null });
      this.list(true);
      if (this.isSpecial(';')) this.i++;
      this.out.push({ name: null, adl: null, mailbox: null, host: null });
      return true;
    }
    if (this.isSpecial('<')) {
      this.i++;
      return this.angle(phrase || null);
    }
    if (this.isSpecial('@')) {
      this.i++;
      const host = this.domain();
      this.peek();
      if (local === null && phrase) {
        this.out.push({ ...MISSING });
        return false;
      }
      this.out.push({
        name: this.comment || null,
        adl: null,
        mailbox: local || 'MISSING_MAILBOX',
        host: host || 'MISSING_DOMAIN',
      });
      return local !== null && host !== '';
    }
    this.peek();
    if (local !== null && !phrase.includes(' '))
      this.out.push({ name: this.comment || null, adl: null, mailbox: local, host: 'MISSING_DOMAIN' });
    else this.out.push({ ...MISSING, name: phrase || null });
    return false;
  }

  private angle(name: string | null): boolean {
    let adl: string | null = null;
    if (this.isSpecial('@')) {
      const route: string[] = [];
      while (this.isSpecial('@')) {
        this.i++;
        route.push(`@${this.domain()}`);
        if (this.isSpecial(',')) this.i++;
      }
      if (!this.isSpecial(':')) {
        this.skipPast('>');
        this.out.push({ ...MISSING, name, adl: 'INVALID_ROUTE' });
        return false;
      }
      this.i++;
      adl = route.join(',');
    }
    if (this.isSpecial('>')) {
      this.i++;
      this.out.push({ ...MISSING, name, adl });
      return false;
    }
    const [, local] = this.words();
    let host = '';
    if (this.isSpecial('@')) {
      this.i++;
      host = this.domain();
    }
    const closed = this.isSpecial('>');
    if (closed) this.i++;
    else this.skipPast('>');
    this.out.push({
      name,
      adl,
      mailbox: local || 'MISSING_MAILBOX',
      host: closed ? host || 'MISSING_DOMAIN' : 'SYNTAX_ERROR',
    });
    return closed && !!local && !!host;
  }

  private skipPast(v: string): void {
    while (this.peek() && !this.isSpecial(v)) this.i++;
    if (this.peek()) this.i++;
  }
}

/** Parses an address-list header value. */
export function parseAddressList(value: string): Address[] {
  const p = new AddressParser(tokenize(value));
  p.list();
  return p.out;
}
