/**
 * /api/users and /api/aliases over the account service (the same code path as GraphQL).
 * Users: POST {email, password, quota?, status?, full_name?} (the domain comes from the address and must exist),
 * GET list (?domain=), GET/PUT/DELETE one, PUT /api/users/{email}/password {current_password?, password}.
 * Aliases: POST {address, destinations}, GET list (?domain=), GET and DELETE one. Rules: password hashes are
 * never returned; PUT may change password, quota, status, full_name. Access: users and aliases are managed by an
 * admin or the domain's administrators; a user may read itself; lists show only the caller's domains (another
 * domain in ?domain= is 403). The password route checks current_password when given (403 authentication_failed
 * if wrong); it is required when users change their own password (a 400 without it) and may be omitted by one
 * who manages the user (admin, domain administrator) changing another's; a change by the user itself keeps the
 * caller's session and ends the others.
 */
import { canManageUser, visibleDomains } from '../auth/principal.ts';
import { sendJson } from '../http/server.ts';
import type { AliasRow, UserRow } from '../repos/rows.ts';
import type { RestContext } from './context.ts';
import {
  type Access,
  badRequest,
  type FieldProblem,
  jsonObject,
  type RestRoute,
  readJson,
  route,
  sendError,
} from './http.ts';

export const userJson = (u: UserRow) => ({
  id: u.id,
  email: u.email,
  full_name: u.full_name,
  quota: u.quota,
  used_bytes: u.used_bytes,
  status: u.status,
  totp_enabled: u.totp_enabled,
  last_login_at: u.last_login_at,
  created_at: u.created_at,
  updated_at: u.updated_at,
});

const aliasJson = (a: AliasRow) => ({
  id: a.id,
  address: a.address,
  destinations: a.destinations,
  status: a.status,
  created_at: a.created_at,
});

const USER_FIELDS = new Set(['email', 'password', 'quota', 'status', 'full_name']);

function userInput(body: Record<string, unknown>, creating: boolean) {
  const problems: FieldProblem[] = [];
  for (const k of Object.keys(body))
    if (!USER_FIELDS.has(k) && k !== 'id') problems.push({ field: k, message: 'is not a user field' });
  const str = (k: string, required: boolean) => {
    const v = body[k];
    if (v === undefined || (v === null && !required)) return v as undefined | null;
    if (typeof v !== 'string')
      problems.push({ field: k, message: required ? 'is required and must be a string' : 'must be a string' });
    return v as string;
  };
  const email = creating ? str('email', true) : undefined;
  const password = str('password', creating);
  const full_name = str('full_name', false);
  const status = str('status', false);
  const quota = body.quota;
  if (quota !== undefined && quota !== null && (typeof quota !== 'number' || !Number.isSafeInteger(quota) || quota < 0))
    problems.push({ field: 'quota', message: 'must be a whole number of bytes, 0 or more (0 = unlimited)' });
  if (creating && email === undefined && !problems.some((p) => p.field === 'email'))
    problems.push({ field: 'email', message: 'is required' });
  if (problems.length) throw badRequest(problems);
  return {
    email,
    password,
    fullName: full_name,
    status: (status ?? undefined) as UserRow['status'] | undefined,
    quota: quota as number | null | undefined,
  };
}

const MANAGE_QUERY: Access = { who: 'domain', target: 'query:domain' };
const MANAGE_USER: Access = { who: 'domain', target: 'path:email' };
const MANAGE_ALIAS: Access = { who: 'domain', target: 'path:address' };
const SELF: Access = { who: 'user', target: 'path:email' };

export function accountRoutes(ctx: RestContext): RestRoute[] {
  const { repos, accounts } = ctx.services;
  /** The domains a listing covers: ?domain= (access.ts checked it), else all (admin) or the caller's own. */
  const domainIds = (req: Parameters<RestRoute['handler']>[0], url: URL): (number | undefined)[] => {
    const d = url.searchParams.get('domain');
    if (d) return [repos.domains.require(d).id];
    const visible = visibleDomains(ctx.principal(req));
    if (visible === null) return [undefined];
    return [...visible].flatMap((name) => repos.domains.get(name)?.id ?? []);
  };
  const toField = (p: (string | number)[]) => (p[0] === 'fullName' ? 'full_name' : p.join('.'));
  return [
    route('GET', '/api/users', 'List users (?domain=).', MANAGE_QUERY, (req, res, _p, url) => {
      try {
        const rows = domainIds(req, url).flatMap((domainId) => repos.users.list({ domainId, limit: 10_000 }));
        sendJson(res, 200, rows.map(userJson));
      } catch (e) {
        if (!sendError(res, e)) throw e;
      }
    }),
    route(
      'POST',
      '/api/users',
      'Create a user in an existing domain.',
      { who: 'domain', target: 'body:email' },
      async (req, res) => {
        try {
          const i = userInput(jsonObject(await readJson(req)), true);
          const u = await accounts.createUser(ctx.actor(req), i.email!, i.password!, {
            fullName: i.fullName,
            quota: i.quota,
            status: i.status,
          });
          sendJson(res, 201, userJson(u));
        } catch (e) {
          if (!sendError(res, e, toField)) throw e;
        }
      },
    ),
    route('GET', '/api/users/{email}', 'Show a user.', SELF, (_req, res, p) => {
      try {
        sendJson(res, 200, userJson(repos.users.require(p.email!)));
      } catch (e) {
        if (!sendError(res, e)) throw e;
      }
    }),
    route(
      'PUT',
      '/api/users/{email}',
      'Change password, quota, status or full_name.',
      MANAGE_USER,
      async (req, res, p) => {
        try {
          const email = p.email!;
          const i = userInput(jsonObject(await readJson(req)), false);
          repos.users.require(email);
          if (i.password) await accounts.setPassword(ctx.actor(req), email, i.password);
          const u =
            i.fullName !== undefined || i.quota !== undefined || i.status !== undefined
              ? accounts.updateUser(ctx.actor(req), email, { fullName: i.fullName, quota: i.quota, status: i.status })
              : repos.users.require(email);
          sendJson(res, 200, userJson(u));
        } catch (e) {
          if (!sendError(res, e, toField)) throw e;
        }
      },
    ),
    route(
      'PUT',
      '/api/users/{email}/password',
      'Change a password: {current_password?, password}; current_password is required for your own.',
      SELF,
      async (req, res, p) => {
        try {
          const email = p.email!;
          const caller = ctx.principal(req);
          const body = jsonObject(await readJson(req));
          const problems: FieldProblem[] = [];
          for (const k of Object.keys(body))
            if (k !== 'password' && k !== 'current_password')
              problems.push({ field: k, message: 'is not allowed here' });
          if (typeof body.password !== 'string')
            problems.push({ field: 'password', message: 'is required and must be a string' });
          if (body.current_password !== undefined && typeof body.current_password !== 'string')
            problems.push({ field: 'current_password', message: 'must be a string' });
          const self = caller.user?.email === email.trim().toLowerCase();
          if (body.current_password === undefined && (self || !canManageUser(caller, email)))
            problems.push({ field: 'current_password', message: 'is required to change your own password' });
          if (problems.length) throw badRequest(problems);
          const password = body.password as string;
          const current = body.current_password as string | undefined;
          const u =
            current === undefined
              ? await accounts.setPassword(ctx.actor(req), email, password)
              : await accounts.changePassword(
                  ctx.actor(req),
                  email,
                  current,
                  password,
                  self ? caller.sessionId : undefined,
                );
          sendJson(res, 200, userJson(u));
        } catch (e) {
          if (!sendError(res, e)) throw e;
        }
      },
    ),
    route('DELETE', '/api/users/{email}', 'Delete a user with its mail.', MANAGE_USER, (req, res, p) => {
      try {
        sendJson(res, 200, { deleted: accounts.deleteUser(ctx.actor(req), p.email!).email });
      } catch (e) {
        if (!sendError(res, e)) throw e;
      }
    }),
    route('GET', '/api/aliases', 'List aliases (?domain=).', MANAGE_QUERY, (req, res, _p, url) => {
      try {
        const rows = domainIds(req, url).flatMap((domainId) => repos.aliases.list({ domainId, limit: 10_000 }));
        sendJson(res, 200, rows.map(aliasJson));
      } catch (e) {
        if (!sendError(res, e)) throw e;
      }
    }),
    route(
      'POST',
      '/api/aliases',
      'Create an alias: {address, destinations: [...]}.',
      { who: 'domain', target: 'body:address' },
      async (req, res) => {
        try {
          const body = jsonObject(await readJson(req));
          const problems: FieldProblem[] = [];
          if (typeof body.address !== 'string')
            problems.push({ field: 'address', message: 'is required and must be a string' });
          const d = body.destinations;
          if (!Array.isArray(d) || d.some((x) => typeof x !== 'string'))
            problems.push({ field: 'destinations', message: 'is required and must be a list of addresses' });
          for (const k of Object.keys(body))
            if (k !== 'address' && k !== 'destinations') problems.push({ field: k, message: 'is not an alias field' });
          if (problems.length) throw badRequest(problems);
          sendJson(res, 201, aliasJson(accounts.createAlias(ctx.actor(req), body.address as string, d as string[])));
        } catch (e) {
          if (!sendError(res, e)) throw e;
        }
      },
    ),
    route('GET', '/api/aliases/{address}', 'Show an alias.', MANAGE_ALIAS, (_req, res, p) => {
      const a = repos.aliases.get(p.address!);
      if (a) sendJson(res, 200, aliasJson(a));
      else sendJson(res, 404, { error: 'not_found', message: `alias "${p.address!}" not found` });
    }),
    route('DELETE', '/api/aliases/{address}', 'Delete an alias.', MANAGE_ALIAS, (req, res, p) => {
      try {
        sendJson(res, 200, { deleted: accounts.deleteAlias(ctx.actor(req), p.address!).address });
      } catch (e) {
        if (!sendError(res, e)) throw e;
      }
    }),
  ];
}
