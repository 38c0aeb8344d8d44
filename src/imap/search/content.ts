/**
 * The searchable text of one message (RFC 3501 6.4.4 HEADER/BODY/TEXT, RFC 2045-2047 MIME, RFC 2046 5.1
 * multipart). Rules: header fields are unfolded (only the CRLF is removed, RFC 5322 2.2.3) and RFC 2047 words are
 * decoded in any charset; raw 8-bit header bytes are read as UTF-8 (RFC 6532), else Latin-1. The body text is the
 * text/* leaves only (attachments included when they are text/*; nothing else), after base64/quoted-printable
 * decoding and charset conversion to Unicode; text/html loses its tags and entities; a message/rfc822 part
 * contributes its decoded header fields and its own text leaves. Everything is lower-cased once, for
 * case-insensitive substring matching. Work is done lazily and kept on the instance.
 */
import libmime from 'libmime';
import charset from 'libmime/lib/charset.js';
import { sentDay } from './dates.ts';

const MAX_DEPTH = 20;
const utf8 = new TextDecoder('utf-8', { fatal: true });

interface Part {
  /** The header section as a byte string (Latin-1 code units = bytes). */
  head: string;
  body: string;
}

export class MessageContent {
  private readonly top: Part;
  private fields?: Map<string, string[]>;
  private headerText?: string;
  private bodyText?: string;

  constructor(raw: Buffer) {
    this.top = splitPart(raw.toString('latin1'));
  }

  /** Lower-cased decoded values of every field named `name` (lower-case). */
  header(name: string): string[] {
    this.fields ??= parseFields(this.top.head);
    return this.fields.get(name) ?? [];
  }

  /** The whole decoded header section, lower-cased, one `name: value` per line. */
  headers(): string {
    this.headerText ??= fieldLines(this.top.head).join('\n').toLowerCase();
    return this.headerText;
  }

  /** The decoded text of the body's text parts, lower-cased. */
  body(): string {
    if (this.bodyText === undefined) {
      const out: string[] = [];
      walkBody(this.top, 'text/plain', out, 0);
      this.bodyText = out.join('\n').toLowerCase();
    }
    return this.bodyText;
  }

  /** The calendar day of the Date: field in its own zone, or null if missing or unreadable. */
  sentDay(): number | null {
    const date = this.header('date')[0];
    return date === undefined ? null : sentDay(date);
  }
}

function splitPart(bytes: string): Part {
  if (bytes.startsWith('\r\n') || bytes.startsWith('\n')) return { head: '', body: bytes.replace(/^\r?\n/, '') };
  const m = /\r?\n\r?\n/.exec(bytes);
  if (!m) return { head: bytes, body: '' };
  return { head: bytes.slice(0, m.index), body: bytes.slice(m.index + m[0].length) };
}

function toText(bytes: string): string {
  const buf = Buffer.from(bytes, 'latin1');
  try {
    return utf8.decode(buf);
  } catch {
    return bytes;
  }
}

/** Unfolded, decoded `Name: value` lines of a header section. */
function fieldLines(head: string): string[] {
  const out: string[] = [];
  for (const [name, value] of rawFields(head)) out.push(`${name}: ${decodeValue(value)}`);
  return out;
}

function rawFields(head: string): [name: string, value: string][] {
  const out: [string, string][] = [];
  for (const line of head.replace(/\r?\n(?=[ \t])/g, '').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    out.push([line.slice(0, i).trim(), line.slice(i + 1).trim()]);
  }
  return out;
}

function decodeValue(value: string): string {
  const text = toText(value);
  try {
    return libmime.decodeWords(text);
  } catch {
    return text;
  }
}

function parseFields(head: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const [name, value] of rawFields(head)) {
    const key = name.toLowerCase();
    const list = map.get(key) ?? [];
    list.push(decodeValue(value).toLowerCase());
    map.set(key, list);
  }
  return map;
}

/** The first raw (undecoded) value of a field, for the MIME structure fields. */
function field(head: string, name: string): string | undefined {
  for (const [n, v] of rawFields(head)) if (n.toLowerCase() === name) return v;
  return undefined;
}

function walkBody(part: Part, defaultType: string, out: string[], depth: number): void {
  if (depth > MAX_DEPTH) return;
  const ct = libmime.parseHeaderValue(field(part.head, 'content-type') ?? defaultType);
  const type = ct.value.trim().toLowerCase() || defaultType;
  const boundary = ct.params.boundary;
  if (type.startsWith('multipart/') && boundary) {
    const childType = type === 'multipart/digest' ? 'message/rfc822' : 'text/plain';
    for (const child of splitMultipart(part.body, boundary)) walkBody(splitPart(child), childType, out, depth + 1);
    return;
  }
  const bytes = decodeTransfer(part.body, field(part.head, 'content-transfer-encoding'));
  if (type === 'message/rfc822' || type === 'message/global') {
    const inner = splitPart(bytes);
    out.push(fieldLines(inner.head).join('\n'));
    walkBody(inner, 'text/plain', out, depth + 1);
    return;
  }
  if (!type.startsWith('text/') && !type.startsWith('multipart/')) return;
  const cs = ct.params.charset?.trim();
  const text = !cs || /^(us-)?ascii$/i.test(cs) ? toText(bytes) : charset.decode(Buffer.from(bytes, 'latin1'), cs);
  out.push(type === 'text/html' ? htmlToText(text) : text);
}

function splitMultipart(body: string, boundary: string): string[] {
  const delim = `--${boundary}`;
  const parts: string[] = [];
  let current: string[] | null = null;
  for (const line of body.split(/\r?\n/)) {
    if (line.startsWith(delim)) {
      const rest = line.slice(delim.length).trimEnd();
      if (rest === '' || rest === '--') {
        if (current) parts.push(current.join('\r\n'));
        current = rest === '' ? [] : null;
        if (rest === '--') break;
        continue;
      }
    }
    current?.push(line);
  }
  if (current) parts.push(current.join('\r\n'));
  return parts;
}

/** Undoes base64 / quoted-printable; the result is again a byte string. */
function decodeTransfer(body: string, cte: string | undefined): string {
  const enc = cte?.trim().toLowerCase();
  if (enc === 'base64') return Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64').toString('latin1');
  if (enc === 'quoted-printable') {
    return body
      .replace(/[ \t]+(?=\r?\n|$)/g, '')
      .replace(/=(?:\r?\n|$)/g, '')
      .replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  }
  return body;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<\/?(p|div|br|li|tr|td|th|h[1-6]|table|ul|ol|blockquote|hr)\b[^>]*>/gi, ' ')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,8});/gi, (whole, e: string) => {
      const lower = e.toLowerCase();
      if (lower.startsWith('#')) {
        const code = lower[1] === 'x' ? Number.parseInt(lower.slice(2), 16) : Number(lower.slice(1));
        return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
      }
      return ENTITIES[lower] ?? whole;
    });
}
