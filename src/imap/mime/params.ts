/**
 * Content-Type / Content-Disposition values (RFC 2045 5.1, RFC 2183, RFC 2231 3-4) in the form IMAP shows
 * them, following Dovecot 2.3: names and values keep their spelling; comments are skipped; a parameter
 * without "=" is dropped and parsing resumes after the next ";" (even inside quotes, as Dovecot does); RFC 2231
 * continuations are joined after the plain parameters, an encoded one keeping its "name*" key and its
 * still-encoded charset'lang'value. `decodeParams` gives the decoded view (RFC 2231 and RFC 2047) for callers.
 */

export type Param = [name: string, value: string];

const TSPECIAL = '()<>@,;:\\"/[]?= \t\r\n';

class Lexer {
  i = 0;
  constructor(readonly s: string) {}
  get done(): boolean {
    return this.i >= this.s.length;
  }
  get ch(): string {
    return this.s[this.i] ?? '';
  }
  skip(): void {
    for (;;) {
      const c = this.ch;
      if (c === ' ' || c === '\t' || c === '\r' || c === '\n') this.i++;
      else if (c === '(') {
        let depth = 0;
        while (!this.done) {
          const d = this.s[this.i++];
          if (d === '\\') this.i++;
          else if (d === '(') depth++;
          else if (d === ')' && --depth === 0) break;
        }
      } else return;
    }
  }
  token(): string {
    const start = this.i;
    while (!this.done && !TSPECIAL.includes(this.ch) && this.ch.charCodeAt(0) > 0x1f) this.i++;
    return this.s.slice(start, this.i);
  }
  /** A parameter value: quoted string, or (leniently) anything up to ";", white space or a comment. */
  value(): string {
    if (this.ch === '"') {
      let out = '';
      this.i++;
      while (!this.done && this.ch !== '"') {
        if (this.ch === '\\') this.i++;
        out += this.ch;
        this.i++;
      }
      this.i++;
      return out;
    }
    const start = this.i;
    while (!this.done && !';( \t\r\n"'.includes(this.ch)) this.i++;
    return this.s.slice(start, this.i);
  }
}

export interface ContentType {
  type: string;
  subtype: string;
  params: Param[];
}

/** "type/subtype; params". No slash: the word is the type and the subtype is ''; a bad subtype: both ''. */
export function parseContentType(value: string): ContentType {
  const lx = new Lexer(value);
  lx.skip();
  const type = lx.token();
  lx.skip();
  if (lx.ch !== '/') return { type, subtype: '', params: [] };
  lx.i++;
  lx.skip();
  const subtype = lx.token();
  if (!type || !subtype) return { type: '', subtype: '', params: [] };
  return { type, subtype, params: parseParams(lx) };
}

/** "inline; filename=..." (RFC 2183). */
export function parseDisposition(value: string): { type: string; params: Param[] } | null {
  const lx = new Lexer(value);
  lx.skip();
  const type = lx.token();
  if (!type) return null;
  return { type, params: parseParams(lx) };
}

function parseParams(lx: Lexer): Param[] {
  const plain: Param[] = [];
  const ext: { base: string; index: number; encoded: boolean; value: string }[] = [];
  for (;;) {
    lx.skip();
    if (lx.done) break;
    if (lx.ch === ';') {
      lx.i++;
      lx.skip();
      if (lx.done) break;
    }
    const name = lx.token();
    lx.skip();
    if (!name || lx.ch !== '=') {
      const next = lx.s.indexOf(';', lx.i + 1);
      if (next < 0) break;
      lx.i = next;
      continue;
    }
    lx.i++;
    lx.skip();
    const value = lx.value();
    const star = name.indexOf('*');
    if (star < 0) {
      plain.push([name, value]);
      continue;
    }
    const m = /^\*(?:(\d+)(\*?))?$/.exec(name.slice(star));
    if (!m) plain.push([name, value]);
    else
      ext.push({
        base: name.slice(0, star),
        index: m[1] === undefined ? -1 : Number(m[1]),
        encoded: m[1] === undefined || m[2] === '*',
        value,
      });
  }
  if (!ext.length) return plain;
  ext.sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : a.index - b.index));
  for (let i = 0; i < ext.length; ) {
    const first = ext[i]!;
    let j = i;
    let value = '';
    let encoded = false;
    for (; j < ext.length && ext[j]!.base === first.base; j++) {
      const e = ext[j]!;
      if (e.index !== -1 && e.index !== j - i) continue;
      value += e.value;
      encoded ||= e.encoded;
    }
    plain.push([encoded ? `${first.base}*` : first.base, value]);
    i = j;
  }
  return plain;
}

/** Decoded parameters by lower-case name: RFC 2231 charset'lang'%XX and RFC 2047 encoded words decoded. */
export function decodeParams(params: Param[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of params) {
    if (name.endsWith('*')) {
      const m = /^([^']*)'[^']*'(.*)$/s.exec(value);
      const key = name.slice(0, -1).toLowerCase();
      if (!m) out.set(key, percentDecode(value, 'utf-8'));
      else out.set(key, percentDecode(m[2]!, m[1] || 'utf-8'));
    } else out.set(name.toLowerCase(), decodeWords(value));
  }
  return out;
}

function decodeBytes(bytes: Uint8Array, charset: string): string {
  try {
    return new TextDecoder(charset.trim().toLowerCase()).decode(bytes);
  } catch {
    return Buffer.from(bytes).toString('utf8');
  }
}

function percentDecode(s: string, charset: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const hex = s[i] === '%' ? s.slice(i + 1, i + 3) : '';
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else for (const b of Buffer.from(s[i]!, 'utf8')) bytes.push(b);
  }
  return decodeBytes(Uint8Array.from(bytes), charset);
}

/** Decodes RFC 2047 encoded words (white space between adjacent words is dropped). */
export function decodeWords(s: string): string {
  if (!s.includes('=?')) return s;
  return s
    .replace(/(\?=)[ \t]+(?==\?)/g, '$1')
    .replace(/=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g, (_all, charset: string, enc: string, text: string) => {
      const cs = charset.split('*')[0]!;
      if (enc.toUpperCase() === 'B') return decodeBytes(Buffer.from(text, 'base64'), cs);
      const q = text.replace(/_/g, ' ');
      const bytes: number[] = [];
      for (let i = 0; i < q.length; i++) {
        const hex = q[i] === '=' ? q.slice(i + 1, i + 3) : '';
        if (/^[0-9a-fA-F]{2}$/.test(hex)) {
          bytes.push(Number.parseInt(hex, 16));
          i += 2;
        } else bytes.push(q.charCodeAt(i) & 0xff);
      }
      return decodeBytes(Uint8Array.from(bytes), cs);
    });
}
