/**
 * SMTP replies as an SMTP client reads them (RFC 5321 4.2): "250-first", ..., "250 last", each line ended by CRLF
 * (a bare LF is accepted), and the enhanced status code of RFC 2034 / RFC 3463 when the reply carries one.
 * Rules:
 *  - A reply line longer than MAX_LINE bytes, a reply of more than MAX_LINES lines, a line that does not start with
 *    a three-digit code followed by " ", "-" or the line end, or a continuation line whose code differs from the
 *    first: ReplyParser.push throws ReplyError; the caller ends the session (the peer is not speaking SMTP).
 *  - `lines` keeps each line's text after the code and separator as sent; `enhanced` is taken from the first line
 *    when it starts with class.subject.detail whose class is the reply's first digit; `text` is the lines' texts
 *    with that enhanced code removed from each, joined by "\n".
 *  - Lines are decoded as UTF-8 (SMTPUTF8 servers may send it).
 */

export interface SmtpReply {
  code: number;
  enhanced: string | null;
  text: string;
  /** every line's text, without code */
  lines: string[];
}

export const MAX_LINE = 4096;
export const MAX_LINES = 100;

export class ReplyError extends Error {}

const ENHANCED = /^([245])\.(\d{1,3})\.(\d{1,3})(?= |$)/;

/** A reply made from its parts (client-generated replies use it too). */
export function makeReply(code: number, lines: string[]): SmtpReply {
  const m = ENHANCED.exec(lines[0] ?? '');
  const enhanced = m && m[1] === String(code)[0] ? m[0] : null;
  const strip = enhanced ? (l: string) => (l.startsWith(enhanced) ? l.slice(enhanced.length).trimStart() : l) : null;
  return { code, enhanced, text: (strip ? lines.map(strip) : lines).join('\n'), lines };
}

/** "550 5.1.1 <a@b>: User unknown" (one line; continuation lines joined by a space): for logs and DSNs. */
export function formatReply(r: SmtpReply): string {
  return `${r.code} ${r.lines.join(' ')}`.trimEnd();
}

const LF = 0x0a;
const CR = 0x0d;

export class ReplyParser {
  private partial: Buffer | null = null;
  private code = 0;
  private lines: string[] = [];

  /** Feeds received bytes; returns the replies they complete (often none or one). Throws ReplyError. */
  push(data: Buffer): SmtpReply[] {
    let buf = data;
    if (this.partial) {
      buf = Buffer.concat([this.partial, data]);
      this.partial = null;
    }
    const out: SmtpReply[] = [];
    let from = 0;
    let i = buf.indexOf(LF);
    while (i !== -1) {
      const end = i > from && buf[i - 1] === CR ? i - 1 : i;
      if (end - from > MAX_LINE) throw new ReplyError(`reply line longer than ${MAX_LINE} bytes`);
      const r = this.line(buf.toString('utf8', from, end));
      if (r) out.push(r);
      from = i + 1;
      i = buf.indexOf(LF, from);
    }
    if (from < buf.length) {
      if (buf.length - from > MAX_LINE + 1) throw new ReplyError(`reply line longer than ${MAX_LINE} bytes`);
      this.partial = buf.subarray(from);
    }
    return out;
  }

  /** Something received after the last complete reply (STARTTLS: must be 0 when the 220 is read). */
  get pending(): number {
    return (this.partial?.length ?? 0) + this.lines.length;
  }

  private line(s: string): SmtpReply | null {
    const c0 = s.charCodeAt(0);
    const c1 = s.charCodeAt(1);
    const c2 = s.charCodeAt(2);
    const sep = s.length > 3 ? s[3] : ' ';
    if (
      !(c0 >= 0x32 && c0 <= 0x35 && c1 >= 0x30 && c1 <= 0x39 && c2 >= 0x30 && c2 <= 0x39) ||
      (sep !== ' ' && sep !== '-')
    )
      throw new ReplyError(`malformed reply line: ${JSON.stringify(s.slice(0, 80))}`);
    const code = (c0 - 0x30) * 100 + (c1 - 0x30) * 10 + (c2 - 0x30);
    if (this.lines.length === 0) this.code = code;
    else if (code !== this.code) throw new ReplyError(`reply code changed within a reply: ${this.code} then ${code}`);
    this.lines.push(s.slice(4));
    if (this.lines.length > MAX_LINES) throw new ReplyError(`reply of more than ${MAX_LINES} lines`);
    if (sep === '-') return null;
    const r = makeReply(this.code, this.lines);
    this.lines = [];
    return r;
  }
}
