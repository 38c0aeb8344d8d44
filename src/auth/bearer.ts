/**
 * Bearer-token authentication for the admin APIs (GraphQL and REST). Rules: a token is the config's admin token
 * (compared in constant time, as fixed-length digests), an API token (`my_…`) or a login session (`mys_…`), both
 * stored hashed; the result is the caller's Principal (auth/principal.ts). A session whose user or domain is no
 * longer active does not verify; neither does an API token whose every scope names a user that is gone or not
 * active (such `user:` scopes grant nothing).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Repos } from '../repos/index.ts';
import { SESSION_PREFIX } from '../repos/sessions.ts';
import { type Principal, type PrincipalUser, parseScope, scopeString } from './principal.ts';

/** The caller of an API request (kept under its older name for the front ends). */
export type AuthInfo = Principal;

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

type BearerDeps = {
  adminToken: string;
  repos: Pick<Repos, 'apiTokens' | 'sessions' | 'users' | 'domains' | 'domainAdmins'>;
};

const domainOf = (email: string) => email.slice(email.lastIndexOf('@') + 1);

/** A user who may use the API now (active, in an active domain), with the domain's TOTP rule. */
function activeUser(deps: BearerDeps, key: { id?: number; email?: string }) {
  const row = key.email !== undefined ? deps.repos.users.get(key.email) : deps.repos.users.byId(key.id!);
  if (row?.status !== 'active') return undefined;
  const domain = deps.repos.domains.get(domainOf(row.email));
  if (domain?.status !== 'active') return undefined;
  return { row, domain, user: { id: row.id, email: row.email, domain: domain.name } satisfies PrincipalUser };
}

export function verifyBearer(
  deps: BearerDeps,
  authorization: string | null | undefined,
  now = Date.now(),
): Principal | { error: string } {
  if (!authorization) return { error: 'missing Authorization: Bearer <token> header' };
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!m) return { error: 'the Authorization header must be "Bearer <token>"' };
  return verifyToken(deps, m[1]!, now);
}

export function verifyToken(deps: BearerDeps, token: string, now = Date.now()): Principal | { error: string } {
  const base = { totpSetupRequired: false, tokenId: null, sessionId: null };
  if (timingSafeEqual(digest(token), digest(deps.adminToken)))
    return {
      ...base,
      actor: 'admin-token',
      via: 'admin-token',
      admin: true,
      domains: new Set(),
      user: null,
      scopes: ['admin'],
    };

  if (token.startsWith(SESSION_PREFIX)) {
    const s = deps.repos.sessions.verify(token, now);
    const u = s && activeUser(deps, { id: s.user_id });
    if (!s || !u) return { error: 'invalid or expired session' };
    const domains = deps.repos.domainAdmins.domainsOf(u.row.id);
    return {
      ...base,
      actor: u.row.email,
      via: 'session',
      admin: false,
      domains: new Set(domains),
      user: u.user,
      totpSetupRequired: u.domain.auth_totp_enforced && !u.row.totp_enabled,
      sessionId: s.id,
      scopes: [`user:${u.row.email}`, ...domains.map((d) => `domain:${d}`)],
    };
  }

  const row = deps.repos.apiTokens.verify(token, now);
  if (!row) return { error: 'invalid or expired token' };
  let admin = false;
  const domains = new Set<string>();
  let user: PrincipalUser | null = null;
  const scopes: string[] = [];
  let userScopes = 0;
  for (const raw of row.scopes) {
    const s = parseScope(raw);
    if (!s) continue;
    if (s.kind === 'admin') admin = true;
    else if (s.kind === 'domain') domains.add(s.name);
    else {
      userScopes++;
      const u = activeUser(deps, { email: s.email });
      if (!u || user) continue;
      user = u.user;
      s.email = u.user.email;
    }
    scopes.push(scopeString(s));
  }
  if (userScopes && !user && !admin && !domains.size) return { error: 'the user of this token is not active' };
  return { ...base, actor: `api-token:${row.name}`, via: 'api-token', admin, domains, user, tokenId: row.id, scopes };
}
