/**
 * Reads the few header fields the index keeps (Subject, From, Date, Message-ID) from the start of a message.
 * Rules: only the header section is looked at (up to the first empty line, at most HEADER_LIMIT bytes);
 * folded lines are unfolded; RFC 2047 encoded words are decoded; a malformed header never fails a delivery.
 */
import libmime from 'libmime';

export const HEADER_LIMIT = 64 * 1024;

export interface IndexedHeaders {
  subject: string | null;
  from: string | null;
  date: number | null;
  messageId: string | null;
}

export function parseIndexHeaders(head: Buffer): IndexedHeaders {
  const text = head.subarray(0, HEADER_LIMIT).toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const block = (end >= 0 ? text.slice(0, end) : text).replace(/\r?\n[ \t]+/g, ' ');
  const fields = new Map<string, string>();
  for (const line of block.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    if (!fields.has(name)) fields.set(name, line.slice(i + 1).trim());
  }
  const decode = (v: string | undefined) => {
    if (v === undefined) return null;
    const utf8 = Buffer.from(v, 'latin1').toString('utf8');
    try {
      return libmime.decodeWords(utf8).slice(0, 1000);
    } catch {
      return utf8.slice(0, 1000);
    }
  };
  const date = fields.get('date');
  const parsed = date ? Date.parse(date.replace(/\s*\([^)]*\)\s*$/, '')) : Number.NaN;
  const mid = fields.get('message-id');
  return {
    subject: decode(fields.get('subject')),
    from: decode(fields.get('from')),
    date: Number.isNaN(parsed) ? null : parsed,
    messageId: mid ? (/<[^<>\s]+>/.exec(mid)?.[0] ?? mid.slice(0, 500)) : null,
  };
}
