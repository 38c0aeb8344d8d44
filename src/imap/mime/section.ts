/**
 * BODY[section]<partial> (RFC 3501 6.4.5) as byte ranges of the stored message, numbered as Dovecot 2.3 does.
 * Rules: [] is the whole message; a multipart's parts are 1..n; part 1 of a single-part message (top-level or
 * inside message/rfc822) is its body, and nothing is below it; part 1 of a single-part non-message part is
 * that part again (and nothing is below it either); the parts of a message/rfc822 part are those of the message it contains. MIME is a part's
 * own header; HEADER, TEXT and HEADER.FIELDS[.NOT] apply to the top-level message or to a message/rfc822 part
 * (the message it contains), anything else gives an empty result, as does a part that does not exist.
 * HEADER.FIELDS keeps the matching fields' original bytes (folding included) and ends with an empty line;
 * HEADER.FIELDS.NOT also keeps lines without a colon and ends with the header's own empty line, if any.
 */
import { ImapBad, type Token } from '../protocol/types.ts';
import type { MimeNode } from './parse.ts';

export type SectionText = '' | 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME';

export interface SectionSpec {
  /** Part numbers, e.g. [1, 2] for "1.2"; [] for the message itself. */
  part: number[];
  text: SectionText;
  /** Field names for HEADER.FIELDS and HEADER.FIELDS.NOT, as given. */
  fields?: string[];
}

const TEXTS = new Set(['HEADER', 'HEADER.FIELDS', 'HEADER.FIELDS.NOT', 'TEXT', 'MIME']);

/** The section of a FETCH `BODY[...]` token (its `section` list); throws ImapBad if it is not valid. */
export function parseSectionSpec(section: Token[]): SectionSpec {
  const [first, list, extra] = section;
  if (!first) return { part: [], text: '' };
  if (first.type !== 'atom' || extra) throw new ImapBad('Invalid section');
  const words = first.value.split('.');
  const part: number[] = [];
  while (words.length && /^[0-9]+$/.test(words[0]!)) {
    const w = words.shift()!;
    if (!/^[1-9][0-9]{0,8}$/.test(w)) throw new ImapBad(`Invalid part number in section: ${first.value}`);
    part.push(Number(w));
  }
  const text = words.join('.').toUpperCase();
  if (text !== '' && !TEXTS.has(text)) throw new ImapBad(`Invalid section: ${first.value}`);
  if ((text === 'MIME' && !part.length) || (text === '' && first.value !== part.join('.')))
    throw new ImapBad(`Invalid section: ${first.value}`);
  if (text !== 'HEADER.FIELDS' && text !== 'HEADER.FIELDS.NOT') {
    if (list) throw new ImapBad(`Invalid section: ${first.value} takes no field list`);
    return { part, text: text as SectionText };
  }
  if (list?.type !== 'list' || !list.items.length) throw new ImapBad(`${text} needs a list of field names`);
  const fields = list.items.map((t) => {
    const name = t.type === 'atom' ? t.value : t.type === 'string' ? t.value.toString('utf8') : '';
    if (!name || /[\x00-\x20:\x7f]/.test(name)) throw new ImapBad(`Invalid header field name in ${text}`);
    return name;
  });
  return { part, text: text as SectionText, fields };
}

interface Target {
  node: MimeNode;
  /** The node is a single-part message or part standing for its own body (its part 1): nothing is below. */
  bodyOf: boolean;
}

/** Finds the node a part path names, or null if there is none. */
export function findPart(root: MimeNode, path: number[]): Target | null {
  let node = root;
  let bodyOf = false;
  for (const n of path) {
    if (bodyOf) return null;
    if (node.message) node = node.message;
    if (node.children.length) {
      const child = node.children[n - 1];
      if (!child) return null;
      node = child;
    } else if (n !== 1) return null;
    else bodyOf = true;
  }
  return { node, bodyOf };
}

const EMPTY = Buffer.alloc(0);
const CRLF = Buffer.from('\r\n');

/** The bytes of BODY[section] (sub-arrays of the message where possible; empty if the part does not exist). */
export function fetchSection(root: MimeNode, spec: SectionSpec): Buffer {
  const raw = root.raw;
  if (!spec.part.length && spec.text === '') return raw.subarray(root.headerStart, root.bodyEnd);
  const target = findPart(root, spec.part);
  if (!target) return EMPTY;
  const { node, bodyOf } = target;
  if (spec.text === '') return raw.subarray(node.bodyStart, node.bodyEnd);
  if (spec.text === 'MIME') return raw.subarray(node.headerStart, node.bodyStart);
  const msg = !spec.part.length ? root : bodyOf ? null : node.message;
  if (!msg) return EMPTY;
  if (spec.text === 'HEADER') return raw.subarray(msg.headerStart, msg.bodyStart);
  if (spec.text === 'TEXT') return raw.subarray(msg.bodyStart, msg.bodyEnd);
  return headerFields(msg, spec.fields ?? [], spec.text === 'HEADER.FIELDS.NOT');
}

/** HEADER.FIELDS / HEADER.FIELDS.NOT: the (non-)matching fields, then an empty line. */
export function headerFields(msg: MimeNode, names: string[], not: boolean): Buffer {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const out: Buffer[] = [];
  for (const f of msg.headers) {
    if ((f.name !== '' && wanted.has(f.name.toLowerCase())) === not) continue;
    out.push(msg.raw.subarray(f.start, f.end));
    if (msg.raw[f.end - 1] !== 0x0a) out.push(CRLF);
  }
  // As Dovecot: HEADER.FIELDS always ends with an empty line, .NOT with the header's own (if it has one).
  const last = msg.headers[msg.headers.length - 1];
  out.push(not ? msg.raw.subarray(last ? last.end : msg.headerStart, msg.bodyStart) : CRLF);
  return Buffer.concat(out);
}

/** The `<offset.length>` slice of a section (empty past the end). */
export function partial(data: Buffer, offset: number, length: number): Buffer {
  const start = Math.min(offset, data.length);
  return data.subarray(start, Math.min(start + length, data.length));
}
