/**
 * Validation and normalisation of domain names and addresses: the one check behind every door (REST, GraphQL, CLI,
 * SMTP RCPT through the repositories' lookups). Rules: a name is accepted exactly when the store can serve it, and
 * is never truncated or repaired: domains are letters, digits, marks, hyphens and dots only (an IDN is stored in
 * ASCII as punycode, lower case, without a trailing dot), so URL delimiters ('/', '?', '#', '\\', '@', ':') are
 * refused rather than cut off by the URL parser; a local part is what RFC 5321/6531 allow unquoted minus what a
 * Maildir path cannot hold or the MX would refuse: no '/', no control characters, no whitespace or specials, no
 * '%' or '!', no leading, trailing or doubled dot, no lone surrogates, at most 64 bytes; local parts are
 * lower-cased (Mailyard treats them case-insensitively, as every mainstream server does).
 */
import { domainToASCII } from 'node:url';
import { InvalidInputError } from './errors.ts';

export const TEMPLATE_DOMAIN = '_default';

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
/** What a domain name may be made of before IDNA: letters, digits and marks of any script, hyphens, dots. */
const DOMAIN_CHARS = /^[\p{L}\p{N}\p{M}.-]+$/u;
/**
 * What a local part may not contain: RFC 5321 specials and spaces, '/', control characters (C0, DEL, C1), lone
 * surrogates (not Unicode: no file name can hold them), and '%' and '!' (the MX refuses them as source routing, so
 * a mailbox named with them could never receive mail).
 */
const LOCAL_FORBIDDEN = /[\s"(),:;<>@[\\\]/%!\p{Cc}\p{Cs}]/u;

export function normalizeDomain(input: string, field = 'name'): string {
  const raw = input.trim().replace(/\.$/, '').toLowerCase();
  if (raw === TEMPLATE_DOMAIN) return raw;
  if (!DOMAIN_CHARS.test(raw)) throw new InvalidInputError(`"${input}" is not a valid domain name`, field);
  const ascii = domainToASCII(raw);
  if (!ascii || ascii.length > 253 || !ascii.includes('.') || !ascii.split('.').every((l) => LABEL.test(l)))
    throw new InvalidInputError(`"${input}" is not a valid domain name`, field);
  return ascii;
}

/** Whether `local` (already lower-cased) is a local part Mailyard accepts and can store as a Maildir folder. */
export function isValidLocalPart(local: string): boolean {
  return (
    local.length > 0 &&
    Buffer.byteLength(local) <= 64 &&
    !LOCAL_FORBIDDEN.test(local) &&
    !local.startsWith('.') &&
    !local.endsWith('.') &&
    !local.includes('..')
  );
}

export function splitAddress(input: string, field = 'email'): { local: string; domain: string; address: string } {
  const s = input.trim();
  const at = s.lastIndexOf('@');
  if (at <= 0 || at === s.length - 1) throw new InvalidInputError(`"${input}" is not a valid email address`, field);
  const local = s.slice(0, at).toLowerCase();
  if (!isValidLocalPart(local)) throw new InvalidInputError(`"${input}" is not a valid email address`, field);
  const domain = normalizeDomain(s.slice(at + 1), field);
  if (domain === TEMPLATE_DOMAIN) throw new InvalidInputError(`"${input}" is not a valid email address`, field);
  return { local, domain, address: `${local}@${domain}` };
}
