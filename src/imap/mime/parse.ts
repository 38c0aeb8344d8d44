/**
 * The MIME tree of a stored message (RFC 2045, RFC 2046 5.1, RFC 2046 5.2.1, RFC 3501 6.4.5 numbering) by byte
 * offset into the raw message, for FETCH. Rules: never throws and never decodes bodies; one linear pass of
 * Buffer.indexOf per level. A delimiter line is "--boundary", optionally "--", then only white space (RFC 2046
 * 5.1.1); the line break before it belongs to it; preamble and epilogue are ignored; a missing close delimiter
 * ends the last part at the end of its parent; a multipart without boundary or without any part gets one empty
 * text/plain part (as Dovecot). A missing Content-Type is text/plain (message/rfc822 inside multipart/digest);
 * one without a slash keeps the word as type with an empty subtype, a broken one gives empty type and subtype
 * (both as Dovecot). message/rfc822 bodies are parsed as messages. Bare LF line ends are accepted; sizes and
 * offsets are always of the raw bytes (the store keeps CRLF, so they are the IMAP sizes).
 */
import { fieldValue, findField, type HeaderField, parseHeader } from './header.ts';
import { decodeParams, type Param, parseContentType, parseDisposition } from './params.ts';

export interface MimeNode {
  /** The whole message every offset refers to. */
  raw: Buffer;
  /** The header is raw[headerStart, bodyStart) (with its empty line, if any); the body raw[bodyStart, bodyEnd). */
  headerStart: number;
  bodyStart: number;
  bodyEnd: number;
  headers: HeaderField[];
  /** True for the top-level message and for the message inside a message/rfc822 part. */
  isMessage: boolean;
  /** Type and subtype as written ('text'/'plain' when defaulted); parameters as IMAP shows them. */
  type: string;
  subtype: string;
  params: Param[];
  /** Parameters by lower-case name, RFC 2231 joined and charset-decoded, RFC 2047 decoded. */
  decodedParams: Map<string, string>;
  /** Header values, unfolded and trimmed, null if absent. */
  id: string | null;
  description: string | null;
  encoding: string | null;
  md5: string | null;
  location: string | null;
  disposition: { type: string; params: Param[]; decodedParams: Map<string, string> } | null;
  language: string[] | null;
  /** Body size in bytes, and its number of lines (LF count; 0 for types other than text/* and message/rfc822). */
  size: number;
  lines: number;
  /** Parts of a multipart (never empty for a multipart). */
  children: MimeNode[];
  /** The message inside a message/rfc822 part. */
  message: MimeNode | null;
}

const MAX_DEPTH = 64;

/** Parses a whole message. */
export function parseMime(raw: Buffer): MimeNode {
  return parseEntity(raw, 0, raw.length, true, false, 0);
}

/** The unfolded value of the node's first header field with this name, or null. */
export function headerValue(node: MimeNode, name: string): string | null {
  const f = findField(node.headers, name);
  return f ? fieldValue(node.raw, f) : null;
}

function parseEntity(
  raw: Buffer,
  start: number,
  end: number,
  isMessage: boolean,
  inDigest: boolean,
  depth: number,
): MimeNode {
  const { fields, bodyStart } = parseHeader(raw, start, end);
  const value = (name: string) => {
    const f = findField(fields, name);
    return f ? fieldValue(raw, f) : null;
  };
  const ct = value('content-type');
  const parsed = ct === null ? null : parseContentType(ct);
  const type = parsed ? parsed.type : inDigest ? 'message' : 'text';
  const subtype = parsed ? parsed.subtype : inDigest ? 'rfc822' : 'plain';
  const params = parsed ? parsed.params : [];
  const lowerType = type.toLowerCase();
  const lowerSub = subtype.toLowerCase();
  if (lowerType === 'text' && subtype && !params.some(([n]) => n.toLowerCase() === 'charset'))
    params.push(['charset', 'us-ascii']);
  const disp = value('content-disposition');
  const d = disp === null ? null : parseDisposition(disp);
  const lang = value('content-language');
  const language = lang === null ? null : lang.split(',').flatMap((l) => stripComments(l) || []);
  const node: MimeNode = {
    raw,
    headerStart: start,
    bodyStart,
    bodyEnd: end,
    headers: fields,
    isMessage,
    type,
    subtype,
    params,
    decodedParams: decodeParams(params),
    id: value('content-id'),
    description: value('content-description'),
    encoding: firstWord(value('content-transfer-encoding')),
    md5: value('content-md5'),
    location: value('content-location'),
    disposition: d && { ...d, decodedParams: decodeParams(d.params) },
    language: language?.length ? language : null,
    size: end - bodyStart,
    lines: 0,
    children: [],
    message: null,
  };
  if (lowerType === 'multipart' && depth < MAX_DEPTH) {
    const boundary = params.find(([n]) => n.toLowerCase() === 'boundary')?.[1];
    const digest = lowerSub === 'digest';
    for (const [s, e] of boundary ? splitParts(raw, bodyStart, end, boundary) : [])
      node.children.push(parseEntity(raw, s, e, false, digest, depth + 1));
    if (!node.children.length) node.children.push(parseEntity(raw, end, end, false, false, depth + 1));
  } else if (lowerType === 'message' && lowerSub === 'rfc822') {
    node.lines = countLines(raw, bodyStart, end);
    if (depth < MAX_DEPTH) node.message = parseEntity(raw, bodyStart, end, true, false, depth + 1);
  } else if (lowerType === 'text') node.lines = countLines(raw, bodyStart, end);
  return node;
}

function stripComments(s: string): string {
  return s.replace(/\([^)]*\)/g, '').trim();
}

function firstWord(v: string | null): string | null {
  if (v === null) return null;
  const w = stripComments(v).split(/[ \t;]/)[0];
  return w || null;
}

/** Counts LF bytes in raw[start, end). */
export function countLines(raw: Buffer, start: number, end: number): number {
  const view = raw.subarray(0, end);
  let n = 0;
  for (let i = view.indexOf(0x0a, start); i >= 0; i = view.indexOf(0x0a, i + 1)) n++;
  return n;
}

/**
 * The [start, end) ranges of the parts between delimiter lines of `boundary` in raw[start, end). Each part
 * starts after its delimiter line and ends before the line break preceding the next delimiter.
 */
export function splitParts(raw: Buffer, start: number, end: number, boundary: string): [number, number][] {
  const delim = Buffer.from(`--${boundary}`, 'utf8');
  const view = raw.subarray(0, end);
  const parts: [number, number][] = [];
  let partStart = -1;
  let pos = start;
  while (pos < end) {
    // Candidate: a delimiter at the very start of the body, or right after a LF.
    let at: number;
    if (pos === start && raw.subarray(start, start + delim.length).equals(delim)) at = start;
    else {
      const found = view.indexOf(delim, pos);
      if (found < 0) break;
      if (found === start || raw[found - 1] !== 0x0a) {
        pos = found + 1;
        continue;
      }
      at = found;
    }
    let p = at + delim.length;
    const close = raw[p] === 0x2d && raw[p + 1] === 0x2d && p + 2 <= end;
    if (close) p += 2;
    while (p < end && (raw[p] === 0x20 || raw[p] === 0x09)) p++;
    let lineEnd: number;
    if (p >= end) lineEnd = end;
    else if (raw[p] === 0x0a) lineEnd = p + 1;
    else if (raw[p] === 0x0d && raw[p + 1] === 0x0a && p + 1 < end) lineEnd = p + 2;
    else {
      pos = at + 1;
      continue;
    }
    if (partStart >= 0) {
      let e = at;
      if (e > partStart && raw[e - 1] === 0x0a) e--;
      if (e > partStart && raw[e - 1] === 0x0d) e--;
      parts.push([partStart, e]);
    }
    if (close) return parts;
    partStart = lineEnd;
    pos = lineEnd;
  }
  if (partStart >= 0) parts.push([partStart, end]);
  return parts;
}
