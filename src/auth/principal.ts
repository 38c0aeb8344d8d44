/**
 * Who is calling the API, and what it may touch. Rules:
 * - Three kinds of caller: the configured admin token (admin), an API token (its scopes), a login session (its
 *   user, plus domain admin of the user's domain_admins rows, read at each request so a change applies at once).
 * - A scope is `admin`, `domain:<name>` (domain admin: the domain's users, aliases, policies, DKIM keys and
 *   delivery events) or `user:<address>` (that user's own profile, password, TOTP, app passwords, sessions and
 *   delivery events). Anything else is refused when a token is created; unknown scopes of old rows grant nothing.
 * - Authority is checked here and only here: canManageDomain / canManageUser / canActAsUser / coversScopes, and
 *   their require* forms that throw ForbiddenError (GraphQL FORBIDDEN, REST 403); requireCoversAdminRoles keeps a
 *   domain administrator from managing a user who administers domains it does not.
 * - A session of a user whose domain enforces TOTP but who has not enrolled yet is `totpSetupRequired`: the front
 *   ends let it do nothing but read `me`, enrol and confirm TOTP, and log out.
 */
import { ForbiddenError, InvalidInputError } from '../repos/errors.ts';
import { normalizeDomain, splitAddress, TEMPLATE_DOMAIN } from '../repos/names.ts';

export interface PrincipalUser {
  id: number;
  email: string;
  domain: string;
}

export interface Principal {
  /** The name written to the audit log: `admin-token`, `api-token:<name>` or the user's address. */
  actor: string;
  /** `anonymous`: a GraphQL request without a token, which may only log in (it holds no scope). */
  via: 'admin-token' | 'api-token' | 'session' | 'anonymous';
  admin: boolean;
  /** Domains this caller administers (normalised names). */
  domains: ReadonlySet<string>;
  /** The user this caller is (a session, or an API token with a `user:` scope). */
  user: PrincipalUser | null;
  totpSetupRequired: boolean;
  tokenId: number | null;
  sessionId: number | null;
  /** The effective scopes, as strings (`admin`, `domain:<name>`, `user:<address>`). */
  scopes: string[];
}

export type Scope = { kind: 'admin' } | { kind: 'domain'; name: string } | { kind: 'user'; email: string };

/** Parses one scope string to its normal form; null when it is not a scope. */
export function parseScope(s: string): Scope | null {
  const t = s.trim();
  if (t === 'admin') return { kind: 'admin' };
  try {
    if (t.startsWith('domain:')) return { kind: 'domain', name: normalizeDomain(t.slice(7)) };
    if (t.startsWith('user:')) return { kind: 'user', email: splitAddress(t.slice(5)).address };
  } catch {
    return null;
  }
  return null;
}

export const scopeString = (s: Scope) =>
  s.kind === 'admin' ? 'admin' : s.kind === 'domain' ? `domain:${s.name}` : `user:${s.email}`;

/** Normalises a list of scopes for a new token; an unknown or malformed one is an InvalidInputError on `field`. */
export function validateScopes(list: string[], field = 'scopes'): Scope[] {
  if (!list.length)
    throw new InvalidInputError('at least one scope is needed (admin, domain:<name>, user:<address>)', field);
  const out: Scope[] = [];
  for (const s of list) {
    const p = parseScope(s);
    if (!p) throw new InvalidInputError(`"${s}" is not a scope: use admin, domain:<name> or user:<address>`, field);
    if (!out.some((o) => scopeString(o) === scopeString(p))) out.push(p);
  }
  return out;
}

const domainOf = (email: string) => email.slice(email.lastIndexOf('@') + 1).toLowerCase();
const norm = (d: string) => {
  try {
    return normalizeDomain(d);
  } catch {
    return d.toLowerCase();
  }
};

/** Administers the domain: admin, or domain admin of it (the `_default` template: admin only). */
export const canManageDomain = (p: Principal, domain: string) =>
  p.admin || (norm(domain) !== TEMPLATE_DOMAIN && p.domains.has(norm(domain)));
/** Administers the user's account: admin, or domain admin of the user's domain. */
export const canManageUser = (p: Principal, email: string) => canManageDomain(p, domainOf(email));
/** May act on the user's own things (password, TOTP, app passwords, sessions): the user or one who manages it. */
export const canActAsUser = (p: Principal, email: string) =>
  canManageUser(p, email) || p.user?.email === email.trim().toLowerCase();

/**
 * A user who administers domains (`adminDomains`, its domain_admins rows) is managed by another caller only if
 * that caller manages every one of those domains too: else a domain administrator could set that user's
 * password, log in as it and reach its other domains. The user itself always may.
 */
export function requireCoversAdminRoles(p: Principal, email: string, adminDomains: readonly string[]): void {
  if (p.admin || p.user?.email === email.trim().toLowerCase()) return;
  for (const d of adminDomains)
    if (!canManageDomain(p, d))
      throw new ForbiddenError(
        `"${email.trim().toLowerCase()}" administers the domain "${d}", which this caller does not`,
      );
}

/** Whether a token with these scopes would give no more than the caller has. */
export function coversScopes(p: Principal, scopes: Scope[]): boolean {
  return scopes.every((s) =>
    s.kind === 'admin' ? p.admin : s.kind === 'domain' ? canManageDomain(p, s.name) : canActAsUser(p, s.email),
  );
}

export function requireAdmin(p: Principal): void {
  if (!p.admin) throw new ForbiddenError('this needs the admin scope');
}
export function requireDomain(p: Principal, domain: string): void {
  if (!canManageDomain(p, domain)) throw new ForbiddenError(`not an administrator of the domain "${domain}"`);
}
export function requireUserManager(p: Principal, email: string): void {
  if (!canManageUser(p, email)) throw new ForbiddenError(`not an administrator of the domain of "${email}"`);
}
export function requireSelfOrManager(p: Principal, email: string): void {
  if (!canActAsUser(p, email)) throw new ForbiddenError(`not allowed to act for "${email}"`);
}

/** The domains whose data a listing may show: null = all (admin), else the administered ones. */
export const visibleDomains = (p: Principal): ReadonlySet<string> | null => (p.admin ? null : p.domains);
