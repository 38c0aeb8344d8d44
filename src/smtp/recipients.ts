/**
 * Recipient resolution for the MX (RFC 5321 3.6, 4.1.1.3). Rules: only addresses of active hosted domains are
 * accepted; Mailyard is never an open relay: a non-local domain, a percent-hack or bang path local part, or a
 * quoted local part hiding a routing character is refused with 554 5.7.1 (smtp-server already drops RFC 5321
 * source routes, so "@a:b@c" is judged as "b@c"); local parts are case-insensitive; user+tag delivers to user;
 * aliases expand recursively (depth 8, duplicates removed); the domain's catch-all takes unknown local parts; a
 * local part no mailbox can have (what repos/names.ts refuses: '/', control characters) is 550 5.1.1. An SRS
 * address of a hosted domain (a bounce of mail we forwarded, RFC-draft SRS) resolves to the original sender when
 * its hash and age check out (a forged or expired one is 550 5.1.1).
 */
import type { AliasesRepo } from '../repos/aliases.ts';
import type { DomainsRepo } from '../repos/domains.ts';
import { normalizeDomain, TEMPLATE_DOMAIN } from '../repos/names.ts';
import type { UserAccount, UsersRepo } from '../repos/users.ts';
import { REPLIES, type Reply } from './replies.ts';

export interface LocalTarget {
  user: UserAccount;
  domain: string;
}

export type Resolution =
  | {
      ok: true;
      address: string;
      domain: string;
      local: LocalTarget[];
      remote: string[];
      /** Accepted for relaying (a client of smtp.relay_networks), not a hosted address. */
      relay?: boolean;
    }
  | { ok: false; reply: Reply; domain: string | null };

const MAX_DEPTH = 8;

function split(address: string): { local: string; domain: string } | null {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return null;
  let local = address.slice(0, at);
  if (local.startsWith('"') && local.endsWith('"') && local.length >= 2)
    local = local.slice(1, -1).replace(/\\(.)/g, '$1');
  return { local, domain: address.slice(at + 1) };
}

/** The lookups recipient resolution needs (cached reads of the repositories). */
export interface Directory {
  domains: Pick<DomainsRepo, 'get'>;
  users: Pick<UsersRepo, 'account'>;
  aliases: Pick<AliasesRepo, 'get'>;
}

/** Reverses SRS addresses (src/queue/srs.ts); throws when an address is not a valid one of ours. */
export interface SrsReverser {
  isSrs(address: string): boolean;
  reverse(address: string): string;
}

export function resolveRecipient(repos: Directory, raw: string, srs?: SrsReverser | null): Resolution {
  const parts = split(raw);
  if (!parts) return { ok: false, reply: REPLIES.badAddress(raw), domain: null };
  let domainName: string;
  try {
    domainName = normalizeDomain(parts.domain);
  } catch {
    return { ok: false, reply: REPLIES.relayDenied(raw), domain: null };
  }
  const domain = repos.domains.get(domainName);
  if (!domain || domain.name === TEMPLATE_DOMAIN) return { ok: false, reply: REPLIES.relayDenied(raw), domain: null };
  const local = parts.local.toLowerCase();
  // An SRS address (its hash is base64: '/' and '+' are part of it; it may be longer than 64 octets, as SRS
  // addresses often are) is checked by reversing it, below.
  const srsAddress = !!srs && /^srs[01][=+-]/i.test(local) && srs.isSrs(raw);
  // Routing characters in a local part (percent hack, bang paths, an @ inside quotes) are relay attempts.
  if (/[%!@]/.test(local) || local.length === 0 || (local.length > 64 && !srsAddress))
    return { ok: false, reply: REPLIES.relayDenied(raw), domain: domainName };
  // A local part no mailbox can ever have ('/', control characters: the store could not hold it, and it would
  // reach the trace headers): refused here, never a 451 for the whole message at the end of DATA.
  if (/[\p{Cc}\p{Cs}]/u.test(local) || (local.includes('/') && !srsAddress))
    return { ok: false, reply: REPLIES.unknownUser(raw), domain: domainName };
  if (domain.status !== 'active') return { ok: false, reply: REPLIES.domainDisabled(domainName), domain: domainName };

  const address = `${local}@${domainName}`;
  if (srs && srsAddress) {
    let original: string;
    try {
      original = srs.reverse(raw);
    } catch {
      return { ok: false, reply: REPLIES.unknownUser(raw), domain: domainName };
    }
    const at = original.lastIndexOf('@');
    const d = repos.domains.get(original.slice(at + 1).toLowerCase());
    // Back to one of our own addresses: resolved like any recipient (no second SRS round).
    if (d && d.name !== TEMPLATE_DOMAIN) {
      const r = resolveRecipient(repos, original);
      return r.ok ? { ...r, address, domain: domainName } : r;
    }
    return { ok: true, address, domain: domainName, local: [], remote: [original] };
  }
  const plus = local.indexOf('+');
  const candidates = plus > 0 ? [address, `${local.slice(0, plus)}@${domainName}`] : [address];

  for (const candidate of candidates) {
    const user = repos.users.account(candidate);
    if (user) {
      if (user.status !== 'active') return { ok: false, reply: REPLIES.userDisabled(raw), domain: domainName };
      return { ok: true, address, domain: domainName, local: [{ user, domain: domainName }], remote: [] };
    }
    if (repos.aliases.get(candidate)) return expand(repos, raw, address, domainName, [candidate]);
  }
  if (domain.catchall_email) return expand(repos, raw, address, domainName, [domain.catchall_email]);
  return { ok: false, reply: REPLIES.unknownUser(raw), domain: domainName };
}

function expand(repos: Directory, raw: string, address: string, domainName: string, start: string[]): Resolution {
  const local = new Map<number, LocalTarget>();
  const remote = new Set<string>();
  const seen = new Set<string>();
  let disabled = false;
  const visit = (addr: string, depth: number) => {
    const a = addr.toLowerCase();
    if (seen.has(a) || depth > MAX_DEPTH) return;
    seen.add(a);
    const at = a.lastIndexOf('@');
    const d = repos.domains.get(a.slice(at + 1));
    if (!d || d.name === TEMPLATE_DOMAIN) {
      remote.add(a);
      return;
    }
    const user = repos.users.account(a);
    if (user) {
      if (user.status === 'active' && d.status === 'active') local.set(user.id, { user, domain: d.name });
      else disabled = true;
      return;
    }
    const alias = repos.aliases.get(a);
    if (alias && alias.status === 'active') for (const next of alias.destinations) visit(next, depth + 1);
  };
  for (const s of start) visit(s, 0);
  if (local.size === 0 && remote.size === 0)
    return { ok: false, reply: disabled ? REPLIES.userDisabled(raw) : REPLIES.unknownUser(raw), domain: domainName };
  return { ok: true, address, domain: domainName, local: [...local.values()], remote: [...remote] };
}
