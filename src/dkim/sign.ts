/**
 * DKIM signing of outgoing mail (RFC 6376, Ed25519 per RFC 8463). Rules:
 * - relaxed/relaxed canonicalization; rsa-sha256 for an RSA key, ed25519-sha256 for an Ed25519 key (read from the
 *   key itself, never configured separately);
 * - h= is the configured header list with each name once (case-insensitively), From added when missing; every
 *   instance of a listed field that the message has is signed, bottom-up (RFC 6376 5.4.2), and From is listed once
 *   more than it occurs (oversigning, 8.15), so a From added in transit breaks the signature;
 * - a message is signed in its CRLF form: bare LFs count as CRLF (what the SMTP client sends), so the signature
 *   verifies on the wire whichever line ends the stored copy has; a message file is read once for all keys;
 * - a private key PEM is parsed once (OpenSSL's decoder costs more than an RSA-2048 signature) and kept in a
 *   bounded cache keyed by the PEM text;
 * - a message without a From header, or a key that is not RSA or Ed25519, is an error: nothing is signed.
 * The canonicalization, body hash and header formatting are mailauth's own (the same code its dkimSign() runs);
 * dkimSign() itself is not called because it parses the PEM for every signature and cannot oversign.
 */
import { createHash, createPrivateKey, type KeyObject, sign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { DomainRow } from '../repos/rows.ts';
import { toCrlf } from '../store/crlf.ts';

const require = createRequire(import.meta.url);

interface ParsedHeader {
  key: string;
  casedKey: string;
  line: Buffer;
}
interface SigningLines {
  keys: string;
  headers: ParsedHeader[];
}
const { parseHeaders, getSigningHeaderLines, formatSignatureHeaderLine } = require('mailauth/lib/tools.js') as {
  parseHeaders(buf: Buffer): { parsed: ParsedHeader[] };
  getSigningHeaderLines(parsed: ParsedHeader[], fieldNames: string): SigningLines;
  formatSignatureHeaderLine(type: 'DKIM', values: Record<string, unknown>, folded: boolean): string;
};
const { dkimBody } = require('mailauth/lib/dkim/body/index.js') as {
  dkimBody(
    canonicalization: string,
    hashAlgo: string,
    maxBodyLength: false,
  ): { update(b: Buffer): void; digest(enc: 'base64'): string };
};
const { generateCanonicalizedHeader } = require('mailauth/lib/dkim/header/index.js') as {
  generateCanonicalizedHeader(
    type: 'DKIM',
    lines: SigningLines,
    options: Record<string, unknown>,
  ): { canonicalizedHeader: Buffer; dkimHeaderOpts: Record<string, unknown> };
};

export interface SigningKey {
  /** d= (ASCII). */
  domain: string;
  /** s= */
  selector: string;
  /** PKCS#8 (or PKCS#1) PEM. */
  privateKey: string;
  /** Header field names to sign (From is added if missing). */
  headers: string[];
}

/** Letters, digits, hyphens, underscores and dots: what d= and s= may hold here (nothing that ends a tag). */
const DNS_NAME = /^[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?$/i;
const KEY_CACHE_SIZE = 256;
const keyCache = new Map<string, { key: KeyObject; algorithm: 'rsa-sha256' | 'ed25519-sha256' }>();

function parsedKey(pem: string) {
  const hit = keyCache.get(pem);
  if (hit) {
    // Most recently used last: the Map's insertion order is the eviction order.
    keyCache.delete(pem);
    keyCache.set(pem, hit);
    return hit;
  }
  const key = createPrivateKey(pem);
  const type = key.asymmetricKeyType;
  if (type !== 'rsa' && type !== 'ed25519') throw new Error(`DKIM keys are RSA or Ed25519, not ${type}`);
  const entry = { key, algorithm: type === 'rsa' ? ('rsa-sha256' as const) : ('ed25519-sha256' as const) };
  keyCache.set(pem, entry);
  if (keyCache.size > KEY_CACHE_SIZE) keyCache.delete(keyCache.keys().next().value!);
  return entry;
}

/** The names to put in h=: each once (first spelling wins), From added when missing. */
export function signedHeaderNames(headers: string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of headers) {
    const name = raw.trim();
    if (!name || !/^[!-9;-~]+$/.test(name) || seen.has(name.toLowerCase())) continue;
    seen.add(name.toLowerCase());
    out.push(name);
  }
  if (!seen.has('from')) out.unshift('From');
  return out;
}

/** Header section and body of the CRLF form of `message`. */
function split(message: Buffer): { head: Buffer; body: Buffer } {
  const crlf = toCrlf(message);
  if (crlf.subarray(0, 2).toString() === '\r\n') return { head: Buffer.alloc(0), body: crlf.subarray(2) };
  const end = crlf.indexOf('\r\n\r\n');
  if (end === -1) return { head: crlf, body: Buffer.alloc(0) };
  return { head: crlf.subarray(0, end + 2), body: crlf.subarray(end + 4) };
}

/**
 * The DKIM-Signature header lines for `message` (a Buffer, or the path of a message file), one per key, each
 * folded and ending in CRLF, to be prepended to the message. Throws (signing nothing) when the message has no
 * From header or a key is unusable.
 */
export async function signMessage(
  message: Buffer | string,
  keys: SigningKey[],
  opts: { now?: Date } = {},
): Promise<string> {
  if (keys.length === 0) return '';
  const raw = typeof message === 'string' ? await readFile(message) : message;
  const { head, body } = split(raw);
  const { parsed } = parseHeaders(head);
  if (!parsed.some((h) => h.key === 'from')) throw new Error('cannot DKIM-sign a message without a From header');
  const hasher = dkimBody('relaxed', 'sha256', false);
  hasher.update(body);
  const bodyHash = hasher.digest('base64');
  const timestamp = Math.floor((opts.now ?? new Date()).getTime() / 1000);

  let out = '';
  for (const k of keys) {
    const domain = k.domain.trim().toLowerCase();
    if (!DNS_NAME.test(domain)) throw new Error(`"${k.domain}" is not a DKIM signing domain`);
    if (!DNS_NAME.test(k.selector)) throw new Error(`"${k.selector}" is not a DKIM selector`);
    const { key, algorithm } = parsedKey(k.privateKey);
    const lines = getSigningHeaderLines(parsed, signedHeaderNames(k.headers).join(':'));
    // One From more than the message has: the verifier hashes nothing for it, and a From added later is hashed.
    const oversigned: SigningLines = { keys: `${lines.keys}: From`, headers: lines.headers };
    const { canonicalizedHeader, dkimHeaderOpts } = generateCanonicalizedHeader('DKIM', oversigned, {
      signingDomain: domain,
      selector: k.selector,
      algorithm,
      canonicalization: 'relaxed/relaxed',
      bodyHash,
      timestamp,
      expiration: false,
    });
    const b =
      algorithm === 'rsa-sha256'
        ? sign('sha256', canonicalizedHeader, key)
        : sign(null, createHash('sha256').update(canonicalizedHeader).digest(), key);
    dkimHeaderOpts.b = b.toString('base64');
    out += `${formatSignatureHeaderLine('DKIM', dkimHeaderOpts, true)}\r\n`;
  }
  return out;
}

/** The key a domain signs with, or null when signing is off or it has no key. */
export function signingKeyFor(
  domain: Pick<
    DomainRow,
    'name' | 'dkim_selector' | 'dkim_private_key' | 'dkim_signing_enabled' | 'dkim_headers_to_sign'
  >,
): SigningKey | null {
  if (!domain.dkim_signing_enabled || !domain.dkim_private_key || !domain.dkim_selector) return null;
  return {
    domain: domain.name,
    selector: domain.dkim_selector,
    privateKey: domain.dkim_private_key,
    headers: domain.dkim_headers_to_sign,
  };
}
