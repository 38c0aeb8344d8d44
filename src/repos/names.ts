/**
 * Normalisation of domain names and addresses, shared by every repository. Rules: domains are stored in ASCII
 * (IDN as punycode) and lower case, without a trailing dot; local parts are lower-cased (Mailyard treats local
 * parts case-insensitively, as every mainstream server does).
 */
import { domainToASCII } from 'node:url';
import { InvalidInputError } from './errors.ts';

export const TEMPLATE_DOMAIN = '_default';

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export function normalizeDomain(input: string, field = 'name'): string {
  const raw = input.trim().replace(/\.$/, '').toLowerCase();
  if (raw === TEMPLATE_DOMAIN) return raw;
  const ascii = domainToASCII(raw);
  if (!ascii || ascii.length > 253 || !ascii.includes('.') || !ascii.split('.').every((l) => LABEL.test(l)))
    throw new InvalidInputError(`"${input}" is not a valid domain name`, field);
  return ascii;
}

export function splitAddress(input: string, field = 'email'): { local: string; domain: string; address: string } {
  const s = input.trim();
  const at = s.lastIndexOf('@');
  if (at <= 0 || at === s.length - 1) throw new InvalidInputError(`"${input}" is not a valid email address`, field);
  const local = s.slice(0, at).toLowerCase();
  if (
    local.length > 64 ||
    /[\s"(),:;<>@[\\\]]/.test(local) ||
    local.startsWith('.') ||
    local.endsWith('.') ||
    local.includes('..')
  )
    throw new InvalidInputError(`"${input}" is not a valid email address`, field);
  const domain = normalizeDomain(s.slice(at + 1), field);
  if (domain === TEMPLATE_DOMAIN) throw new InvalidInputError(`"${input}" is not a valid email address`, field);
  return { local, domain, address: `${local}@${domain}` };
}
