/**
 * Serializes responses (RFC 3501 4, 7). Rules: a JS string becomes a quoted string when it is short 7-bit text
 * without CR, LF, NUL, '"' or '\\' escapes problems, otherwise a literal (8-bit UTF-8 is sent as a literal unless
 * the session enabled UTF8=ACCEPT, when it may be quoted); a Buffer is always a literal; null is NIL; an Atom is
 * written as is; arrays are parenthesized lists. The output is a list of chunks so large bodies are not copied.
 */
import { Adjacent, Atom, type ImapValue } from './types.ts';

export type Chunk = string | Buffer;

const QUOTABLE = /^[\x01-\x09\x0b\x0c\x0e-\x7f]*$/;

export function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** A string argument as `astring`: atom-safe strings stay bare, others quoted or literal. */
export function astring(s: string, utf8 = false): Chunk[] {
  if (/^[^(){ %*"\\\x00-\x1f\x7f-\uffff]+$/.test(s) && s.toUpperCase() !== 'NIL') return [s];
  return encode(s, utf8);
}

export function encode(v: ImapValue, utf8 = false, out: Chunk[] = []): Chunk[] {
  if (v === null) out.push('NIL');
  else if (typeof v === 'number' || typeof v === 'bigint') out.push(String(v));
  else if (v instanceof Atom) out.push(v.value);
  else if (v instanceof Adjacent) for (const item of v.items) encode(item, utf8, out);
  else if (Buffer.isBuffer(v)) out.push(`{${v.length}}\r\n`, v);
  else if (typeof v === 'string') {
    if (v.length < 4096 && (QUOTABLE.test(v) || (utf8 && !/[\0\r\n]/.test(v)))) out.push(quote(v));
    else {
      const b = Buffer.from(v, 'utf8');
      out.push(`{${b.length}}\r\n`, b);
    }
  } else {
    out.push('(');
    v.forEach((item, i) => {
      if (i) out.push(' ');
      encode(item, utf8, out);
    });
    out.push(')');
  }
  return out;
}
