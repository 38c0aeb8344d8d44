/**
 * BODY and BODYSTRUCTURE (RFC 3501 7.4.2, body-type-1part / body-type-mpart / body-ext-*). Rules, matching
 * Dovecot 2.3: type, subtype and parameter names keep the letter case of the message (the defaults are written
 * "text" "plain" ("charset" "us-ascii") and "7bit"); text/* gets a "charset" "us-ascii" parameter when it has
 * none; text/* adds its line count; message/rfc822 adds envelope, body structure and line count; extended
 * data is md5, disposition, language, location for a part and parameters, disposition, language, location
 * for a multipart. A part without a Content-Type is text/plain (message/rfc822 inside multipart/digest).
 */
import { Adjacent, type ImapValue } from '../protocol/types.ts';
import { envelope } from './envelope.ts';
import type { Param } from './params.ts';
import type { MimeNode } from './parse.ts';

function params(list: Param[]): ImapValue {
  return list.length ? list.flat() : null;
}

function extension(node: MimeNode): ImapValue[] {
  return [
    node.disposition ? [node.disposition.type, params(node.disposition.params)] : null,
    node.language,
    node.location,
  ];
}

/** BODY (extended = false) or BODYSTRUCTURE (extended = true) of a node. */
export function bodyStructure(node: MimeNode, extended: boolean): ImapValue {
  if (node.children.length) {
    // body-type-mpart = 1*body SP media-subtype: no space between the parts.
    const out: ImapValue[] = [new Adjacent(node.children.map((c) => bodyStructure(c, extended)))];
    out.push(node.subtype);
    if (extended) out.push(params(node.params), ...extension(node));
    return out;
  }
  const out: ImapValue[] = [
    node.type,
    node.subtype,
    params(node.params),
    node.id,
    node.description,
    node.encoding ?? '7bit',
    node.size,
  ];
  const type = node.type.toLowerCase();
  if (node.message) out.push(envelope(node.message), bodyStructure(node.message, extended), node.lines);
  else if (type === 'text') out.push(node.lines);
  if (extended) out.push(node.md5, ...extension(node));
  return out;
}
