/**
 * The MIME layer for FETCH, parse once and answer many items: `parsedMessage(raw)` parses a stored message a
 * single time and computes ENVELOPE, BODY and BODYSTRUCTURE lazily from that tree (each at most once); keep
 * the object for as long as the message is being fetched (or in a small LRU keyed by mailbox/UID).
 */
import type { ImapValue } from '../protocol/types.ts';
import { bodyStructure } from './bodystructure.ts';
import { envelope } from './envelope.ts';
import { type MimeNode, parseMime } from './parse.ts';
import { fetchSection, partial, type SectionSpec } from './section.ts';

export type { Address } from './address.ts';
export { parseAddressList } from './address.ts';
export { bodyStructure } from './bodystructure.ts';
export { envelope } from './envelope.ts';
export { fieldValue, type HeaderField } from './header.ts';
export { decodeParams, decodeWords, type Param } from './params.ts';
export { headerValue, type MimeNode, parseMime } from './parse.ts';
export { fetchSection, findPart, parseSectionSpec, partial, type SectionSpec, type SectionText } from './section.ts';

export interface ParsedMessage {
  readonly raw: Buffer;
  readonly root: MimeNode;
  envelope(): ImapValue;
  body(): ImapValue;
  bodyStructure(): ImapValue;
  /** BODY[section], optionally sliced by `<offset.length>`. */
  section(spec: SectionSpec, range?: [offset: number, length: number]): Buffer;
}

/** Parses a message once; the FETCH items are computed from the tree on first use and remembered. */
export function parsedMessage(raw: Buffer): ParsedMessage {
  const root = parseMime(raw);
  let env: ImapValue | undefined;
  let body: ImapValue | undefined;
  let structure: ImapValue | undefined;
  return {
    raw,
    root,
    envelope: () => {
      if (env === undefined) env = envelope(root);
      return env;
    },
    body: () => {
      if (body === undefined) body = bodyStructure(root, false);
      return body;
    },
    bodyStructure: () => {
      if (structure === undefined) structure = bodyStructure(root, true);
      return structure;
    },
    section: (spec, range) => {
      const data = fetchSection(root, spec);
      return range ? partial(data, range[0], range[1]) : data;
    },
  };
}
