/**
 * The REST shim's access check: a route's declaration (http.ts `Access`) against the caller (auth/principal.ts).
 * Rules: decided here, before the handler runs, with the principal functions; a refusal is a ForbiddenError (403
 * `forbidden`); an admin may call every route; a session that must still enrol TOTP may call only the routes
 * declared `totpSetup`, and only on its own account; `_default` (the template) is an admin's only; a target the
 * request does not name is a 400 when required (path, body) and no check when optional (query: the handler
 * narrows the listing to the caller's domains); `scopes` and `owner` targets are the services' to check. A user
 * who administers domains is managed (through a target naming it) only by one who manages all of those domains
 * too: else a domain administrator could set that user's password, log in as it and reach its other domains.
 */
import type { IncomingMessage } from 'node:http';
import {
  type Principal,
  requireAdmin,
  requireCoversAdminRoles,
  requireDomain,
  requireSelfOrManager,
  requireUserManager,
} from '../auth/principal.ts';
import { ForbiddenError } from '../repos/errors.ts';
import type { Repos } from '../repos/index.ts';
import { TEMPLATE_DOMAIN } from '../repos/names.ts';
import { type Access, badRequest, jsonObject, type Params, readJson } from './http.ts';

export const TOTP_SETUP_MESSAGE =
  'this account must enrol TOTP first: until then only GET /api/me, TOTP enrolment and confirmation, and logout are allowed';

/** The target value a request names (undefined: none, for an optional target or a route without one). */
async function targetOf(access: Access, req: IncomingMessage, params: Params, url: URL): Promise<string | undefined> {
  const t = access.target;
  if (!t || t === 'scopes' || t === 'owner') return undefined;
  const [where, name] = t.split(':') as [string, string];
  if (where === 'path') return params[name];
  if (where === 'query') return url.searchParams.get(name) || undefined;
  const value = jsonObject(await readJson(req))[name];
  if (typeof value !== 'string') throw badRequest([{ field: name, message: 'is required and must be a string' }]);
  return value;
}

/** Throws ForbiddenError (or a 400 for a missing target) unless `p` may make this request. */
export async function authorize(
  repos: Pick<Repos, 'users' | 'domainAdmins'>,
  p: Principal,
  access: Access,
  req: IncomingMessage,
  params: Params,
  url: URL,
): Promise<void> {
  if (access.who === 'public') return;
  if (p.totpSetupRequired && !access.totpSetup) throw new ForbiddenError(TOTP_SETUP_MESSAGE);
  if (p.admin) return;
  if (access.who === 'admin') requireAdmin(p);
  if (access.who === 'domain' && p.domains.size === 0)
    throw new ForbiddenError('this needs the admin scope or a domain administrator');
  const target = await targetOf(access, req, params, url);
  // Until TOTP is on, a session acts on nothing but its own account.
  if (p.totpSetupRequired && (target === undefined ? access.target : target.trim().toLowerCase() !== p.user?.email))
    throw new ForbiddenError(TOTP_SETUP_MESSAGE);
  if (target === undefined) return;
  if (target.includes('@')) {
    if (access.who === 'domain') requireUserManager(p, target);
    else requireSelfOrManager(p, target);
    const user = repos.users.get(target);
    if (user) requireCoversAdminRoles(p, user.email, repos.domainAdmins.domainsOf(user.id));
    return;
  }
  if (target.trim().toLowerCase() === TEMPLATE_DOMAIN)
    throw new ForbiddenError('the _default template is managed with the admin scope only');
  requireDomain(p, target);
}
