/**
 * Header blocks (RFC 5322 2.2, 2.2.3): splits a header into fields by byte offset without copying. Rules: the
 * header ends at the first empty line (CRLF or bare LF) or at the end of the part; a line starting with SP/HT
 * continues the previous field; a line without a colon is kept as a nameless field (so, as in Dovecot, a
 * message without the blank line is all header). Values are unfolded (CRLF/LF before WSP removed), trimmed and
 * read as UTF-8; encoded words (RFC 2047) are left as they are.
 */

export interface HeaderField {
  /** The name as written (trimmed), '' for a line without a colon. */
  name: string;
  /** Offsets into the message: the whole field including its final line break, and where its value starts. */
  start: number;
  end: number;
  valueStart: number;
}

export interface HeaderBlock {
  fields: HeaderField[];
  /** Where the body starts: after the empty line, or `end` if there is none. */
  bodyStart: number;
}

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;

/** Splits raw[start, end) into header fields. Linear; allocates only the field names. */
export function parseHeader(raw: Buffer, start: number, end: number): HeaderBlock {
  const fields: HeaderField[] = [];
  let pos = start;
  let current: HeaderField | null = null;
  while (pos < end) {
    const c = raw[pos];
    if (c === LF) return { fields, bodyStart: pos + 1 };
    if (c === CR && pos + 1 < end && raw[pos + 1] === LF) return { fields, bodyStart: pos + 2 };
    let eol = raw.indexOf(LF, pos);
    eol = eol < 0 || eol >= end ? end : eol + 1;
    if ((c === 0x20 || c === 0x09) && current) current.end = eol;
    else {
      let colon = -1;
      for (let i = pos; i < eol; i++)
        if (raw[i] === COLON) {
          colon = i;
          break;
        }
      const name = colon < 0 ? '' : raw.toString('latin1', pos, colon).trim();
      current = { name, start: pos, end: eol, valueStart: colon < 0 ? pos : colon + 1 };
      fields.push(current);
    }
    pos = eol;
  }
  return { fields, bodyStart: end };
}

/** The field's value, unfolded and trimmed (UTF-8). */
export function fieldValue(raw: Buffer, f: HeaderField): string {
  return raw
    .toString('utf8', f.valueStart, f.end)
    .replace(/\r?\n/g, '')
    .replace(/^[ \t]+|[ \t\r]+$/g, '');
}

/** The first field with this name (case-insensitive), or undefined. */
export function findField(fields: HeaderField[], name: string): HeaderField | undefined {
  const lower = name.toLowerCase();
  return fields.find((f) => f.name.length === lower.length && f.name.toLowerCase() === lower);
}
